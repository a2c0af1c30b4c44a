package sieve

import (
	"strings"
	"testing"
)

// TestAddheader: RFC 5293 §4: at the top, at the end with :last; later
// tests see the change; Result.Header is the new block.
func TestAddheader(t *testing.T) {
	r := run(t, `require ["editheader", "fileinto"];
addheader "X-Sieve" "filtered";
addheader :last "X-Last" "end";
if header :is "x-sieve" "filtered" { fileinto "seen"; }`)
	if mailboxes(r) != "seen" {
		t.Fatalf("later test did not see the field: %q", mailboxes(r))
	}
	h := string(r.Header)
	if !strings.HasPrefix(h, "X-Sieve: filtered\r\nReturn-Path:") || !strings.HasSuffix(h, "X-Last: end\r\n\r\n") {
		t.Fatalf("header:\n%s", h)
	}
	// Non-ASCII values are encoded.
	r = run(t, `require "editheader"; addheader "X-Note" "café";`)
	if !strings.HasPrefix(string(r.Header), "X-Note: =?utf-8?q?caf=C3=A9?=\r\n") {
		t.Fatalf("header:\n%s", r.Header)
	}
	// No edit, no header.
	if r := run(t, `keep;`); r.Header != nil {
		t.Fatal("header without editheader")
	}
}

// TestDeleteheader: RFC 5293 §5.
func TestDeleteheader(t *testing.T) {
	for _, c := range []struct {
		cmd       string
		gone, has []string
	}{
		{`deleteheader "x-multi";`, []string{"X-Multi: one", "X-Multi: two"}, nil},
		{`deleteheader :index 1 "x-multi";`, []string{"X-Multi: one"}, []string{"X-Multi: two"}},
		{`deleteheader :index 1 :last "x-multi";`, []string{"X-Multi: two"}, []string{"X-Multi: one"}},
		{`deleteheader :is "x-multi" "two";`, []string{"X-Multi: two"}, []string{"X-Multi: one"}},
		{`deleteheader :matches "x-multi" "*o";`, []string{"X-Multi: two"}, []string{"X-Multi: one"}},
		{`deleteheader "x-folded";`, []string{"X-Folded"}, []string{"X-Multi: one"}},
		// Protected fields stay (RFC 5293 §6).
		{`deleteheader "received";`, nil, []string{"Received: from mx.example.org"}},
	} {
		r := run(t, `require "editheader";`+"\n"+c.cmd)
		h := string(r.Header)
		if r.Header == nil {
			h = testMessage
		}
		for _, g := range c.gone {
			if strings.Contains(h, g) {
				t.Errorf("%s: %q still there:\n%s", c.cmd, g, h)
			}
		}
		for _, k := range c.has {
			if !strings.Contains(h, k) {
				t.Errorf("%s: %q gone:\n%s", c.cmd, k, h)
			}
		}
	}
	r := run(t, `require ["editheader", "fileinto"]; deleteheader "subject"; if not exists "subject" { fileinto "gone"; }`)
	if mailboxes(r) != "gone" {
		t.Fatal("later test saw the deleted field")
	}
	if r := run(t, `require "editheader"; addheader "Received" "forged";`); r.Header != nil {
		t.Fatal("added a protected field")
	}
	r = run(t, `require ["editheader", "regex"]; deleteheader :regex "x-multi" "^t.o$";`)
	if h := string(r.Header); strings.Contains(h, "X-Multi: two") || !strings.Contains(h, "X-Multi: one") {
		t.Fatalf(":regex:\n%s", h)
	}
	compileErr(t, `require ["editheader", "regex"]; deleteheader :regex "x" "(";`)
	compileErr(t, `require "editheader"; addheader "bad name" "x";`)
	compileErr(t, `require "editheader"; deleteheader :last "x";`)
}
