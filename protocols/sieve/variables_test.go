package sieve

import (
	"context"
	"strings"
	"testing"
)

// filed returns the mailboxes a script filed into, comma-separated.
func filed(t *testing.T, script string) string {
	t.Helper()
	r := run(t, script)
	var names []string
	for _, f := range r.FileInto {
		names = append(names, f.Mailbox)
	}
	return strings.Join(names, ",")
}

// TestSetModifiers: RFC 5229 §4.1 and its examples.
func TestSetModifiers(t *testing.T) {
	for _, c := range []struct {
		set  string
		want string
	}{
		{`set "v" "Hello";`, "Hello"},
		{`set :lower "v" "HeLLo";`, "hello"},
		{`set :upper "v" "HeLLo";`, "HELLO"},
		{`set :lowerfirst "v" "HELLO";`, "hELLO"},
		{`set :upperfirst "v" "hello";`, "Hello"},
		{`set :upperfirst :lower "v" "hELLO";`, "Hello"},
		{`set :length "v" "héllo";`, "5"},
		{`set :quotewildcard "v" "a*b?c\\d";`, `a\*b\?c\\d`},
		{`set :length :quotewildcard "v" "a*";`, "3"},
		{`set "a" "x"; set "v" "${a}${A}${missing}-${a";`, "xx-${a"},
		{`set "v" "[${1}]";`, "[]"},
		{`set "v" "${ a }";`, "${ a }"},
	} {
		script := `require ["fileinto", "variables"];` + "\n" + c.set + "\nfileinto \"${v}\";"
		if got := filed(t, script); got != c.want {
			t.Errorf("%s: %q, want %q", c.set, got, c.want)
		}
	}
}

// TestMatchVariables: RFC 5229 §3.2: :matches sets ${0}..${n}; a failed
// test leaves them.
func TestMatchVariables(t *testing.T) {
	script := `require ["fileinto", "variables"];
if header :matches "List-ID" "*<*.lists.*>" { fileinto "lists/${2}"; }
if header :matches "Subject" "[*] *" { fileinto "${1}|${2}|${0}"; }
if header :matches "Subject" "nomatch*" { fileinto "no"; }
fileinto "after ${1}";`
	want := "lists/acme-users,acme-users|[fwd] version 1.0 is out|[acme-users] [fwd] version 1.0 is out,after acme-users"
	if got := filed(t, script); got != want {
		t.Fatalf("got %q\nwant %q", got, want)
	}
}

// TestStringTest: RFC 5229 §5.
func TestStringTest(t *testing.T) {
	for _, c := range []struct {
		test string
		want bool
	}{
		{`string :is "${x}" "abc"`, true},
		{`string :contains ["no", "${x}"] "b"`, true},
		{`string :is "${missing}" ""`, true},
		{`string :count "eq" :comparator "i;ascii-numeric" ["${missing}", "a"] "1"`, true},
		{`string :matches "${x}" "a*"`, true},
	} {
		script := `require ["fileinto", "variables", "relational", "comparator-i;ascii-numeric"]; set "x" "abc";` + "\nif " + c.test + ` { fileinto "yes"; }`
		if got := filed(t, script) == "yes"; got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}

// TestVariablesInMatchKey: values expanded into a :matches key keep
// their wildcards unless quoted (RFC 5229 §4.1, :quotewildcard).
func TestVariablesInMatchKey(t *testing.T) {
	script := `require ["fileinto", "variables"];
set "p" "*acme*";
if header :matches "subject" "${p}" { fileinto "wild"; }
set :quotewildcard "q" "*acme*";
if header :matches "subject" "${q}" { fileinto "quoted"; }`
	if got := filed(t, script); got != "wild" {
		t.Fatalf("got %q", got)
	}
}

// TestVariableLimit: values are truncated to MaxVariableLen at a
// character boundary.
func TestVariableLimit(t *testing.T) {
	s, err := Compile([]byte(`require ["variables", "fileinto"];
set "v" "ééééé";
set "w" "${v}${v}${v}";
fileinto "${w}";`), Options{Limits: Limits{MaxVariableLen: 5}})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if got := r.FileInto[0].Mailbox; got != "éé" {
		t.Fatalf("got %q", got)
	}
}

func TestVariablesCompileErrors(t *testing.T) {
	for _, src := range []string{
		`require "variables"; set "1" "x";`,
		`require "variables"; set "a-b" "x";`,
		`require "variables"; set :lower :upper "a" "x";`,
		`set "a" "b";`,
		`require "variables"; set "a";`,
		`require "variables"; set "global.a" "x";`,
		`require ["variables", "include"]; set "envelope.a" "x";`,
	} {
		compileErr(t, src)
	}
}

// TestNoVariablesNoExpansion: without "variables", "${x}" is literal.
func TestNoVariablesNoExpansion(t *testing.T) {
	if got := filed(t, `require "fileinto"; fileinto "${x}";`); got != "${x}" {
		t.Fatalf("got %q", got)
	}
}
