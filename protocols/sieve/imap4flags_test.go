package sieve

import (
	"slices"
	"testing"
)

// TestImap4flags: RFC 5232: the internal variable, setflag/addflag/
// removeflag, hasflag, :flags on fileinto and keep, and the implicit
// keep taking the flags at the end.
func TestImap4flags(t *testing.T) {
	r := run(t, `require ["imap4flags", "fileinto"];
addflag "\\Seen";
addflag ["\\Flagged $Work", "\\seen"];
fileinto "A";
removeflag "\\Flagged";
fileinto :flags "$Other" "B";
keep;`)
	if len(r.FileInto) != 2 {
		t.Fatalf("filings %+v", r.FileInto)
	}
	if got := r.FileInto[0].Flags; !slices.Equal(got, []string{`\Seen`, `\Flagged`, "$Work"}) {
		t.Errorf("A's flags %q", got)
	}
	if got := r.FileInto[1].Flags; !slices.Equal(got, []string{"$Other"}) {
		t.Errorf("B's flags %q", got)
	}
	if !slices.Equal(r.KeepFlags, []string{`\Seen`, "$Work"}) {
		t.Errorf("keep flags %q", r.KeepFlags)
	}

	// The implicit keep uses the internal variable's final value.
	r = run(t, `require "imap4flags"; setflag "\\Deleted"; addflag "\\Seen"; removeflag "\\Deleted";`)
	if !r.Keep || !slices.Equal(r.KeepFlags, []string{`\Seen`}) {
		t.Errorf("implicit keep %+v", r)
	}
	r = run(t, `require "imap4flags"; keep :flags ["\\Answered"];`)
	if !slices.Equal(r.KeepFlags, []string{`\Answered`}) {
		t.Errorf("keep :flags %q", r.KeepFlags)
	}
}

func TestHasflag(t *testing.T) {
	for _, c := range []struct {
		script string
		want   bool
	}{
		{`addflag "\\Seen"; if hasflag "\\seen" { fileinto "yes"; }`, true},
		{`addflag "a b"; if hasflag :is "b" { fileinto "yes"; }`, true},
		{`if hasflag :contains "Seen" { fileinto "yes"; }`, false},
		{`addflag "\\Seen"; if hasflag :contains "Seen" { fileinto "yes"; }`, true},
		{`addflag "x"; removeflag "x"; if hasflag "x" { fileinto "yes"; }`, false},
		{`addflag "mine" ["a", "b"]; if hasflag "mine" "b" { fileinto "yes"; }`, true},
		{`addflag "mine" "a"; if hasflag "a" { fileinto "yes"; }`, false},
		{`setflag "mine" "a b"; if string :is "${mine}" "a b" { fileinto "yes"; }`, true},
		{`addflag ["a", "b", "c"]; if hasflag :count "eq" :comparator "i;ascii-numeric" "3" { fileinto "yes"; }`, true},
	} {
		script := `require ["imap4flags", "fileinto", "variables", "relational", "comparator-i;ascii-numeric"];` + "\n" + c.script
		r := run(t, script)
		got := len(r.FileInto) == 1 && r.FileInto[0].Mailbox == "yes"
		if got != c.want {
			t.Errorf("%s: %v, want %v", c.script, got, c.want)
		}
	}
}

// TestFlagNames: only storable IMAP flags reach the result, system flags
// spelled as usual.
func TestFlagNames(t *testing.T) {
	r := run(t, `require "imap4flags"; addflag ["\\seen", "\\RECENT", "\\Bogus", "$Ok", "bad(flag", "nonascii-é", "\\answered"];`)
	if !slices.Equal(r.KeepFlags, []string{`\Seen`, "$Ok", `\Answered`}) {
		t.Fatalf("flags %q", r.KeepFlags)
	}
}
