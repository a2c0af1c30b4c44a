package sieve

import (
	"context"
	"errors"
	"slices"
	"testing"
)

// TestImplicitKeep: RFC 5228 §2.10.2: kept unless discard, fileinto,
// redirect or reject cancels it.
func TestImplicitKeep(t *testing.T) {
	for _, c := range []struct {
		script    string
		want      string
		discarded bool
	}{
		{"", "KEEP", false},
		{"stop;", "KEEP", false},
		{"keep;", "KEEP", false},
		{"discard;", "", true},
		{"discard; keep;", "KEEP", false},
		{`require "fileinto"; fileinto "Work";`, "Work", false},
		{`require "fileinto"; fileinto "Work"; keep;`, "KEEP,Work", false},
		{`require "fileinto"; fileinto "Work"; fileinto "Work";`, "Work", false},
		{`require "fileinto"; keep; fileinto "INBOX";`, "KEEP", false},
		{`require "fileinto"; discard; fileinto "Work";`, "Work", false},
		{`redirect "x@example.net";`, "", false},
		{`if false { discard; }`, "KEEP", false},
		{`discard; stop; keep;`, "", true},
	} {
		r := run(t, c.script)
		if got := mailboxes(r); got != c.want || r.Discarded != c.discarded {
			t.Errorf("%q: kept %q discarded %v, want %q %v", c.script, got, r.Discarded, c.want, c.discarded)
		}
	}
}

// TestRedirect: RFC 5228 §4.2: deduplicated, bounded, invalid
// addresses are a runtime error.
func TestRedirect(t *testing.T) {
	r := run(t, `redirect "a@example.net"; redirect "A@example.net"; redirect "b@example.net";`)
	if !slices.Equal(r.Redirects, []string{"a@example.net", "b@example.net"}) || r.Keep {
		t.Fatalf("redirects %v keep %v", r.Redirects, r.Keep)
	}
	s, err := Compile([]byte(`redirect "1@x.test"; redirect "2@x.test"; redirect "3@x.test";`), Options{Limits: Limits{MaxRedirects: 2}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("over the redirect limit: %v", err)
	}
	compileErr(t, `redirect "not an address";`)
	compileErr(t, `redirect "Bob <>";`)
	compileErr(t, `redirect "a@b@c";`)
	r = run(t, `redirect "Bob Example <bob@example.net>";`)
	if !slices.Equal(r.Redirects, []string{"bob@example.net"}) {
		t.Fatalf("redirects %q", r.Redirects)
	}
	s, _ = Compile([]byte(`require "variables"; set "a" "not an address"; redirect "${a}";`), Options{})
	if _, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv()); err == nil {
		t.Fatal("redirect to an invalid address succeeded")
	}
}

// TestIfElse: if/elsif/else pick the first branch whose test holds.
func TestIfElse(t *testing.T) {
	script := `require "fileinto";
if header :is "X-Multi" "three" { fileinto "a"; }
elsif header :is "X-Multi" "two" { fileinto "b"; }
elsif true { fileinto "c"; }
else { fileinto "d"; }`
	if got := mailboxes(run(t, script)); got != "b" {
		t.Fatalf("filed %q", got)
	}
	script = `require "fileinto";
if false { fileinto "a"; } elsif false { fileinto "b"; } else { fileinto "d"; }`
	if got := mailboxes(run(t, script)); got != "d" {
		t.Fatalf("filed %q", got)
	}
}

// TestStop: stop ends the script; actions so far stand.
func TestStop(t *testing.T) {
	r := run(t, `require "fileinto"; fileinto "a"; stop; fileinto "b";`)
	if got := mailboxes(r); got != "a" {
		t.Fatalf("filed %q", got)
	}
}

// TestHeaderTest: RFC 5228 §5.7.
func TestHeaderTest(t *testing.T) {
	for _, c := range []struct {
		test string
		want bool
	}{
		{`header :contains "subject" "version"`, true},
		{`header :contains "SUBJECT" "VERSION"`, true},
		{`header :comparator "i;octet" :contains "subject" "VERSION"`, false},
		{`header :is "x-multi" "two"`, true},
		{`header :is "x-multi" ["three", "one"]`, true},
		{`header :is "x-folded" "first second"`, true},
		{`header :is "x-encoded" "café"`, true},
		{`header :is "x-missing" ""`, false},
		{`header "subject" "[acme-users] [fwd] version 1.0 is out"`, true},
		{`header :matches "subject" "*version ?.0*"`, true},
		{`header :matches "subject" "version*"`, false},
		{`header :matches "x-missing" "*"`, false},
		{`header :contains ["to", "cc"] "dave"`, true},
		{`exists ["from", "date"]`, true},
		{`exists ["from", "x-missing"]`, false},
		{`not exists "x-missing"`, true},
		{`size :over 100`, true},
		{`size :under 100`, false},
		{`size :under 1M`, true},
		{`allof (true, header :contains "from" "alice")`, true},
		{`allof (true, false)`, false},
		{`anyof (false, header :contains "from" "alice")`, true},
		{`anyof (false, false)`, false},
	} {
		if got := holds(t, "", c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}

// TestAddressTest: RFC 5228 §5.1 with the address parts of §2.7.4.
func TestAddressTest(t *testing.T) {
	for _, c := range []struct {
		test string
		want bool
	}{
		{`address :is "from" "alice@example.org"`, true},
		{`address :is "from" "ALICE@EXAMPLE.ORG"`, true},
		{`address :all :is "from" "Alice Example <alice@example.org>"`, false},
		{`address :localpart :is "from" "alice"`, true},
		{`address :domain :is "from" "example.org"`, true},
		{`address :domain :is "to" "example.com"`, true},
		{`address :localpart :is "to" "carol"`, true},
		{`address :is "cc" "dave@example.net"`, true},
		{`address :domain :matches ["to", "cc"] "*.net"`, true},
		{`address :localpart :is "to" "bob+lists"`, true},
		{`address :is "x-missing" ""`, false},
	} {
		if got := holds(t, "", c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}

// TestAddressGroups: group syntax yields its members; a header net/mail
// rejects still gives its addresses.
func TestAddressGroups(t *testing.T) {
	msg := "To: friends: a@x.test, b@y.test;, c@z.test\r\nCc: broken <d@w.test>, @@, e@v.test\r\n\r\n"
	for _, c := range []struct {
		test string
		want bool
	}{
		{`address :is "to" "b@y.test"`, true},
		{`address :is "to" "c@z.test"`, true},
		{`address :is "cc" "d@w.test"`, true},
		{`address :is "cc" "e@v.test"`, true},
	} {
		if got := holdsOn(t, "", c.test, msg, testEnv()); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}
