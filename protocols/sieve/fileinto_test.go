package sieve

import (
	"slices"
	"testing"
)

// TestFileinto: RFC 5228 §4.1 with :copy (RFC 3894 §3) and :create
// (RFC 5490 §3.2).
func TestFileinto(t *testing.T) {
	r := run(t, `require ["fileinto", "copy", "mailbox"];
fileinto :copy "Archive";
fileinto :create "Lists/Acme";`)
	want := []FileInto{{Mailbox: "Archive"}, {Mailbox: "Lists/Acme", Create: true}}
	if r.Keep || len(r.FileInto) != 2 || r.FileInto[0].Mailbox != want[0].Mailbox || r.FileInto[0].Create ||
		r.FileInto[1].Mailbox != want[1].Mailbox || !r.FileInto[1].Create {
		t.Fatalf("result %+v", r)
	}
	// :copy alone keeps the implicit keep.
	r = run(t, `require ["fileinto", "copy"]; fileinto :copy "Archive";`)
	if got := mailboxes(r); got != "KEEP,Archive" {
		t.Fatalf("fileinto :copy: %q", got)
	}
	// :copy on redirect too.
	r = run(t, `require "copy"; redirect :copy "x@example.net";`)
	if !r.Keep || !slices.Equal(r.Redirects, []string{"x@example.net"}) {
		t.Fatalf("redirect :copy: %+v", r)
	}
	if !slices.Contains(r.Log, "redirect x@example.net") {
		t.Fatalf("log %q", r.Log)
	}
}

func TestFileintoNeedsRequire(t *testing.T) {
	for _, src := range []string{
		`require "fileinto"; fileinto :copy "x";`,
		`require "fileinto"; fileinto :create "x";`,
		`require "fileinto"; fileinto :flags "\\Seen" "x";`,
		`fileinto "x";`,
	} {
		compileErr(t, src)
	}
}
