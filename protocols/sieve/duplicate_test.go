package sieve

import (
	"context"
	"testing"
	"time"
)

// TestDuplicate: RFC 7352 §3: the Message-ID (or :header, :uniqueid)
// with the handle makes the id; a new id is recorded, a seen one makes
// the test true.
func TestDuplicate(t *testing.T) {
	seen := map[string]bool{}
	env := testEnv()
	env.Duplicate = func(id []byte) bool { return seen[string(id)] }
	script := `require ["duplicate", "fileinto"]; if duplicate { fileinto "Dupes"; }`
	r := runOn(t, script, testMessage, env)
	if mailboxes(r) != "KEEP" || len(r.Duplicates) != 1 || r.DuplicateExpires != 7*24*time.Hour {
		t.Fatalf("first: %+v", r)
	}
	seen[string(r.Duplicates[0])] = true
	r = runOn(t, script, testMessage, env)
	if mailboxes(r) != "Dupes" || len(r.Duplicates) != 0 {
		t.Fatalf("second: %+v", r)
	}
	// :last refreshes the record of a seen id.
	r = runOn(t, `require "duplicate"; if duplicate :last :seconds 60 { discard; }`, testMessage, env)
	if !r.Discarded || len(r.Duplicates) != 1 || r.DuplicateExpires != time.Minute {
		t.Fatalf(":last: %+v", r)
	}
	// Another handle is another id.
	r = runOn(t, `require "duplicate"; if duplicate :handle "other" { discard; }`, testMessage, env)
	if r.Discarded || len(r.Duplicates) != 1 {
		t.Fatalf(":handle: %+v", r)
	}
}

func TestDuplicateSources(t *testing.T) {
	ids := func(script string) [][]byte {
		t.Helper()
		return run(t, `require ["duplicate", "variables"]; `+script).Duplicates
	}
	a := ids(`if duplicate :header "subject" { }`)
	b := ids(`if duplicate :uniqueid "[acme-users] [fwd] version 1.0 is out" { }`)
	c := ids(`if duplicate { }`)
	if len(a) != 1 || len(b) != 1 || string(a[0]) != string(b[0]) || string(a[0]) == string(c[0]) {
		t.Fatalf("ids %x %x %x", a, b, c)
	}
	// No such header: false and nothing recorded.
	if d := ids(`if duplicate :header "x-missing" { }`); len(d) != 0 {
		t.Fatalf("recorded %x", d)
	}
	// :seconds is bounded to 7 days.
	r := run(t, `require "duplicate"; if duplicate :seconds 99999999 { }`)
	if r.DuplicateExpires != 7*24*time.Hour {
		t.Fatalf("expires %v", r.DuplicateExpires)
	}
	compileErr(t, `require "duplicate"; if duplicate :header "a" :uniqueid "b" { }`)
}

// TestDuplicateOncePerRun: the same id twice in one run is seen the
// second time and recorded once.
func TestDuplicateOncePerRun(t *testing.T) {
	s, err := Compile([]byte(`require ["duplicate", "fileinto"];
if duplicate { fileinto "a"; }
if duplicate { fileinto "b"; }`), Options{})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Execute(context.Background(), splitMessage(testMessage), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	if mailboxes(r) != "b" || len(r.Duplicates) != 1 {
		t.Fatalf("%+v", r)
	}
}
