package sieve

import (
	"context"
	"testing"
)

func sequence(t *testing.T, srcs ...string) *Result {
	t.Helper()
	var scripts []*Script
	for _, src := range srcs {
		if src == "" {
			scripts = append(scripts, nil)
			continue
		}
		s, err := Compile([]byte(src), Options{})
		if err != nil {
			t.Fatalf("compile %q: %v", src, err)
		}
		scripts = append(scripts, s)
	}
	r, err := ExecuteSequence(context.Background(), scripts, splitMessage(testMessage), testEnv())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestSequence: a before-script (global, domain) then the user's, as
// Pigeonhole's sieve_before: actions accumulate; the next script runs
// while the message is kept.
func TestSequence(t *testing.T) {
	for _, c := range []struct {
		scripts []string
		want    string
	}{
		// The before-script only tags; the user's files.
		{[]string{`require "imap4flags"; addflag "$Global";`, `require "fileinto"; fileinto "Work";`}, "Work"},
		// The before-script files to Junk: the user's script does not run.
		{[]string{`require "fileinto"; fileinto "Junk";`, `require "fileinto"; fileinto "Work";`}, "Junk"},
		// :copy keeps the implicit keep, so the user's script runs.
		{[]string{`require ["fileinto", "copy"]; fileinto :copy "Archive";`, `require "fileinto"; fileinto "Work";`}, "Archive,Work"},
		// stop ends only the before-script.
		{[]string{`stop;`, `require "fileinto"; fileinto "Work";`}, "Work"},
		// An explicit keep stands, and the user's script still runs.
		{[]string{`keep;`, `require "fileinto"; fileinto "Work";`}, "KEEP,Work"},
		// A discard in the before-script ends everything.
		{[]string{`discard;`, `require "fileinto"; fileinto "Work";`}, ""},
		// Missing scripts are skipped.
		{[]string{"", "", `require "fileinto"; fileinto "Work";`}, "Work"},
		{[]string{"", ""}, "KEEP"},
	} {
		if got := mailboxes(sequence(t, c.scripts...)); got != c.want {
			t.Errorf("%q: %q, want %q", c.scripts, got, c.want)
		}
	}
	// Each script has its own flags: the global one's do not leak into
	// the user's implicit keep.
	r := sequence(t, `require "imap4flags"; addflag "$Global";`, `keep;`)
	if len(r.KeepFlags) != 0 {
		t.Errorf("flags leaked: %q", r.KeepFlags)
	}
}
