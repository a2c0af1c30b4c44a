package sieve

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

// scripts is an Options.Include over a map: "name" personal,
// "global/name" global.
func scripts(m map[string]string) func(bool, string) ([]byte, error) {
	return func(global bool, name string) ([]byte, error) {
		key := name
		if global {
			key = "global/" + name
		}
		src, ok := m[key]
		if !ok {
			return nil, fmt.Errorf("%w: %s", ErrIncludeNotFound, key)
		}
		return []byte(src), nil
	}
}

func runIncl(t *testing.T, main string, m map[string]string) *Result {
	t.Helper()
	s, err := Compile([]byte(main), Options{Include: scripts(m)})
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	r, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	return r
}

// TestInclude: RFC 6609 §3.2: personal and global scripts, actions
// accumulate, return ends only the included script, stop ends all.
func TestInclude(t *testing.T) {
	m := map[string]string{
		"lists":        `require ["fileinto", "include"]; if header :contains "list-id" "acme" { fileinto "Acme"; return; } fileinto "NotReached";`,
		"global/spam":  `require "fileinto"; fileinto "GlobalSpam";`,
		"stopper":      `stop;`,
		"global/lists": `require "fileinto"; fileinto "GlobalLists";`,
	}
	r := runIncl(t, `require ["include", "fileinto"];
include "lists";
include :global "spam";
include :global "lists";
fileinto "After";`, m)
	if got := mailboxes(r); got != "Acme,GlobalSpam,GlobalLists,After" {
		t.Fatalf("filed %q", got)
	}
	r = runIncl(t, `require ["include", "fileinto"]; include "stopper"; fileinto "NotReached";`, m)
	if got := mailboxes(r); got != "KEEP" {
		t.Fatalf("after stop: %q", got)
	}
	if !r.Keep {
		t.Fatal("included stop lost the implicit keep")
	}
}

// TestIncludeOnceOptional: :once runs a script once per execution;
// :optional skips a missing one.
func TestIncludeOnceOptional(t *testing.T) {
	m := map[string]string{
		"count": `require ["variables", "include"]; global "n"; set "n" "${n}x";`,
	}
	r := runIncl(t, `require ["include", "variables", "fileinto"];
global "n";
include :once "count";
include :once "count";
include "count";
include :optional "missing";
fileinto "${n}";`, m)
	if got := mailboxes(r); got != "xx" {
		t.Fatalf("filed %q", got)
	}
	_, err := Compile([]byte(`require "include"; include "missing";`), Options{Include: scripts(m)})
	if err == nil || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("missing include: %v", err)
	}
}

// TestIncludeVariables: RFC 6609 §3.3, §3.4: locals stay local; globals
// are shared, also as "global.name".
func TestIncludeVariables(t *testing.T) {
	m := map[string]string{
		"setter": `require ["variables", "include"]; global "shared"; set "shared" "S"; set "local" "L"; set "global.other" "O";`,
	}
	r := runIncl(t, `require ["include", "variables", "fileinto"];
global "shared";
set "local" "mine";
include "setter";
fileinto "${shared}-${local}-${global.other}";`, m)
	if got := mailboxes(r); got != "S-mine-O" {
		t.Fatalf("filed %q", got)
	}
}

// TestIncludeLimits: depth, count, recursion, compile errors inside the
// included script, and no Include callback.
func TestIncludeLimits(t *testing.T) {
	m := map[string]string{
		"self": `require "include"; include "self";`,
		"bad":  "require \"fileinto\";\n\nfrob;",
	}
	for i := 0; i < 10; i++ {
		m[fmt.Sprintf("d%d", i)] = fmt.Sprintf(`require "include"; include "d%d";`, i+1)
	}
	m["d10"] = "keep;"
	for _, c := range []struct{ src, want string }{
		{`require "include"; include "self";`, "nested"},
		{`require "include"; include "d0";`, "nested"},
		{`require "include"; include "bad";`, `"bad", line 3`},
	} {
		_, err := Compile([]byte(c.src), Options{Include: scripts(m)})
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.src, err, c.want)
		}
		var ce *CompileError
		if !errors.As(err, &ce) {
			t.Errorf("%s: %T", c.src, err)
		}
	}
	var many strings.Builder
	many.WriteString(`require "include";`)
	for i := 0; i < 20; i++ {
		fmt.Fprintf(&many, "include :global \"g%d\";\n", i)
		m[fmt.Sprintf("global/g%d", i)] = "keep;"
	}
	if _, err := Compile([]byte(many.String()), Options{Include: scripts(m)}); err == nil || !strings.Contains(err.Error(), "more than 16 includes") {
		t.Errorf("20 includes: %v", err)
	}
	compileErr(t, `require "include"; include "x";`)
	compileErr(t, `require "include"; return; global "x";`)
}

// TestIncludeUsesBody: UsesBody sees through includes.
func TestIncludeUsesBody(t *testing.T) {
	m := map[string]string{"b": `require "body"; if body :contains "x" { keep; }`}
	s, err := Compile([]byte(`require "include"; include "b";`), Options{Include: scripts(m)})
	if err != nil {
		t.Fatal(err)
	}
	if !s.UsesBody() || !s.Requires("body") {
		t.Fatal("UsesBody does not see the included body test")
	}
	s, _ = Compile([]byte(`keep;`), Options{})
	if s.UsesBody() {
		t.Fatal("UsesBody without a body test")
	}
}
