package sieve

import "testing"

// TestRegex: draft-ietf-sieve-regex: POSIX extended expressions; the
// casemap comparator matches case-insensitively; groups set ${n}.
func TestRegex(t *testing.T) {
	req := `"regex", "variables"`
	for _, c := range []struct {
		test string
		want bool
	}{
		{`header :regex "subject" "^\\[acme-[a-z]+\\]"`, true},
		{`header :regex "subject" "^\\[ACME-[A-Z]+\\]"`, true},
		{`header :regex :comparator "i;octet" "subject" "^\\[ACME"`, false},
		{`header :regex "subject" "version [0-9]+\\.[0-9]+"`, true},
		{`header :regex "subject" "^version"`, false},
		{`address :regex :domain "from" "^example\\.(org|com)$"`, true},
		{`header :regex "subject" "[[:digit:]]\\.0"`, true},
	} {
		if got := holds(t, req, c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
	got := filed(t, `require ["fileinto", "regex", "variables"];
if header :regex "subject" "^\\[([a-z-]+)\\] (.*)$" { fileinto "${1}/${2}"; }`)
	if got != "acme-users/[fwd] version 1.0 is out" {
		t.Fatalf("captures: %q", got)
	}
	// A key from a variable compiles at run time.
	got = filed(t, `require ["fileinto", "regex", "variables"];
set "re" "ver(s)ion";
if header :regex "subject" "${re}" { fileinto "yes${1}"; }`)
	if got != "yess" {
		t.Fatalf("variable key: %q", got)
	}
	// :quoteregex.
	got = filed(t, `require ["fileinto", "regex", "variables"];
set :quoteregex "q" "1.0";
if header :regex "subject" "${q}" { fileinto "yes"; }
set :quoteregex "q" "1x0";
if header :regex "subject" "${q}" { fileinto "no"; }`)
	if got != "yes" {
		t.Fatalf(":quoteregex: %q", got)
	}
}

func TestRegexErrors(t *testing.T) {
	ce := compileErr(t, "require \"regex\";\nif header :regex \"subject\" \"([a-\" { keep; }")
	if ce.Line != 2 {
		t.Fatalf("line %d", ce.Line)
	}
	compileErr(t, `if header :regex "subject" "a" { keep; }`)
	compileErr(t, `require ["regex", "comparator-i;ascii-numeric"]; if header :regex :comparator "i;ascii-numeric" "a" "b" { keep; }`)
}
