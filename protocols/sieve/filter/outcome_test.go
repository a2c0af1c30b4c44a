package filter

import (
	"reflect"
	"testing"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// RFC 5228 §4 actions and §2.10.2's implicit keep, mapped to the
// recipient's outcome.
func TestOutcomeMapping(t *testing.T) {
	const alice = "alice@example.com"
	for _, tc := range []struct {
		name   string
		res    sieve.Result
		junk   bool // an earlier check junked the message
		want   pipeline.RecipientOutcome
		absent bool // no outcome at all: the plain implicit keep
	}{
		{name: "implicit keep", res: sieve.Result{Keep: true}, absent: true},
		{name: "keep with flags", res: sieve.Result{Keep: true, KeepFlags: []string{`\Flagged`}},
			want: pipeline.RecipientOutcome{Filings: []pipeline.Filing{{Flags: []string{`\Flagged`}}}}},
		{name: "fileinto", res: sieve.Result{FileInto: []sieve.FileInto{{Mailbox: "Projects", Create: true}}},
			want: pipeline.RecipientOutcome{Filings: []pipeline.Filing{{Mailbox: "Projects", Create: true}}}},
		{name: "fileinto :copy keeps", res: sieve.Result{Keep: true, FileInto: []sieve.FileInto{{Mailbox: "Archive", Flags: []string{"$label1"}}}},
			want: pipeline.RecipientOutcome{Filings: []pipeline.Filing{{}, {Mailbox: "Archive", Flags: []string{"$label1"}}}}},
		{name: "fileinto INBOX and keep are one copy", res: sieve.Result{Keep: true, FileInto: []sieve.FileInto{{Mailbox: "inbox", Flags: []string{`\Seen`}}}},
			want: pipeline.RecipientOutcome{Filings: []pipeline.Filing{{Flags: []string{`\Seen`}}}}},
		{name: "keep in Junk and fileinto INBOX are two", junk: true, res: sieve.Result{Keep: true, FileInto: []sieve.FileInto{{Mailbox: "INBOX"}}},
			want: pipeline.RecipientOutcome{Filings: []pipeline.Filing{{}, {Mailbox: "INBOX"}}}},
		{name: "same mailbox twice", res: sieve.Result{FileInto: []sieve.FileInto{{Mailbox: "A", Flags: []string{"x"}}, {Mailbox: "A", Flags: []string{"y"}}}},
			want: pipeline.RecipientOutcome{Filings: []pipeline.Filing{{Mailbox: "A", Flags: []string{"x", "y"}}}}},
		{name: "discard", res: sieve.Result{Discarded: true},
			want: pipeline.RecipientOutcome{Discard: true}},
		{name: "redirect", res: sieve.Result{Redirects: []string{"dave@remote.test", "DAVE@remote.test"}},
			want: pipeline.RecipientOutcome{Discard: true, Redirects: []string{"dave@remote.test"}}},
		{name: "redirect :copy", res: sieve.Result{Keep: true, Redirects: []string{"dave@remote.test"}},
			want: pipeline.RecipientOutcome{Redirects: []string{"dave@remote.test"}}},
		{name: "too many redirects", res: sieve.Result{Keep: true, Redirects: []string{"a@r.test", "b@r.test", "c@r.test", "d@r.test", "e@r.test"}},
			want: pipeline.RecipientOutcome{Redirects: []string{"a@r.test", "b@r.test", "c@r.test", "d@r.test"}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			h.interp.result("script", tc.res)
			h.store.put(alice, "main", "script")
			var before []pipeline.Check
			if tc.junk {
				before = append(before, prependCheck{junk: true})
			}
			res, err := h.deliver(t, mxEnv("sender@remote.test", alice), testMessage, before...)
			if err != nil {
				t.Fatal(err)
			}
			got, ok := res.Recipients[alice]
			if tc.absent {
				if ok {
					t.Fatalf("outcome %+v, want none", got)
				}
				return
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("outcome\n got %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// A message to recipients with no script and no forwarding is not
// captured at all: the check does not apply.
func TestNoScriptsNoRun(t *testing.T) {
	h := newHarness(t)
	r, err := h.check.Start(t.Context(), mxEnv("s@remote.test", "alice@example.com", "bob@example.com"))
	if err != nil || r != nil {
		t.Fatalf("Start = %v, %v; want nil, nil", r, err)
	}
	if r, err := h.check.Start(t.Context(), mxEnv("s@remote.test")); err != nil || r != nil {
		t.Fatalf("Start without local recipients = %v, %v", r, err)
	}
}

// Only the recipients with scripts get outcomes; the others keep theirs.
func TestOnlyScriptedRecipients(t *testing.T) {
	h := newHarness(t)
	h.interp.result("files", sieve.Result{FileInto: []sieve.FileInto{{Mailbox: "Lists"}}})
	h.store.put("bob@example.com", "s", "files")
	res, err := h.deliver(t, mxEnv("s@remote.test", "alice@example.com", "bob@example.com"), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Recipients["alice@example.com"]; ok {
		t.Fatal("alice has no script but got an outcome")
	}
	if got := res.Recipients["bob@example.com"].Filings; len(got) != 1 || got[0].Mailbox != "Lists" {
		t.Fatalf("bob's filings %+v", got)
	}
	if len(res.Notes) != 1 || res.Notes[0] != "sieve=fileinto:Lists" {
		t.Fatalf("notes %q", res.Notes)
	}
}

// The envelope the script sees: MAIL FROM, the original RCPT TO (a
// subaddress, RFC 5233), the user and the authenticated submitter.
func TestEnv(t *testing.T) {
	h := newHarness(t)
	var got sieve.Env
	h.interp.def("env", func(_ sieve.Message, env sieve.Env) (*sieve.Result, error) {
		got = env
		return &sieve.Result{Keep: true}, nil
	})
	const alice = "alice@example.com"
	h.store.put(alice, "s", "env")
	h.store.aliases[alice] = []string{"al@example.com"}
	h.store.mailboxes[alice+"|Projects"] = true
	env := pipeline.Envelope{Submission: true, User: "bob@example.com", From: "bob@example.com",
		Local: []string{alice}, RcptTo: map[string]string{alice: "alice+lists@example.com"}}
	if _, err := h.deliver(t, env, testMessage); err != nil {
		t.Fatal(err)
	}
	if got.From != "bob@example.com" || got.To != "alice+lists@example.com" || got.User != alice || got.Auth != "bob@example.com" {
		t.Fatalf("env %+v", got)
	}
	if !got.Now.Equal(h.now) {
		t.Fatalf("now %v", got.Now)
	}
	want := []string{alice, "alice+lists@example.com", "al@example.com"}
	if !reflect.DeepEqual(got.Addresses, want) {
		t.Fatalf("addresses %q, want %q", got.Addresses, want)
	}
	if !got.MailboxExists("Projects") || got.MailboxExists("Nope") {
		t.Fatal("mailboxexists does not read the store")
	}
	if got.SpamScore != nil || got.VirusScore != nil {
		t.Fatal("spamtest/virustest set without a classifier or scanner")
	}
}
