package filter

import (
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// newRealHarness is a harness with the real interpreter and reply
// builders: scripts are Sieve.
func newRealHarness(t *testing.T, limits sieve.Limits) *harness {
	t.Helper()
	h := &harness{store: newFakeStore(), now: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)}
	var err error
	h.check, err = New(Config{
		Scripts: h.store, Forwarding: h.store, Records: h.store, Mailboxes: h.store,
		Replies: MessageReplies{Hostname: "mx.example.com"}, Limits: limits, Hostname: "mx.example.com",
		Now: func() time.Time { return h.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const alice = "alice@example.com"

// Real scripts end to end: what each decides, mapped to the outcome.
func TestRealScripts(t *testing.T) {
	for _, tc := range []struct {
		name, script string
		check        func(t *testing.T, res pipeline.Result)
	}{
		{"fileinto :create with flags", `require ["fileinto", "mailbox", "imap4flags"];
if header :contains "subject" "hello" { fileinto :create :flags "\\Flagged" "Projects"; }`,
			func(t *testing.T, res pipeline.Result) {
				f := res.Recipients[alice].Filings
				if len(f) != 1 || f[0].Mailbox != "Projects" || !f[0].Create || len(f[0].Flags) != 1 || f[0].Flags[0] != `\Flagged` {
					t.Fatalf("filings %+v", f)
				}
			}},
		{"no match keeps", `require "fileinto"; if header :is "subject" "other" { fileinto "X"; }`,
			func(t *testing.T, res pipeline.Result) {
				// Only the earlier check's own field for alice.
				if ro := res.Recipients[alice]; ro.Filings != nil || ro.Discard || ro.Header != nil || ro.Redirects != nil {
					t.Fatalf("outcome %+v", ro)
				}
			}},
		{"discard", `discard;`, func(t *testing.T, res pipeline.Result) {
			if !res.Recipients[alice].Discard {
				t.Fatalf("outcome %+v", res.Recipients[alice])
			}
		}},
		{"redirect :copy", `require "copy"; redirect :copy "dave@remote.test";`, func(t *testing.T, res pipeline.Result) {
			ro := res.Recipients[alice]
			if ro.Discard || len(ro.Redirects) != 1 || ro.Redirects[0] != "dave@remote.test" {
				t.Fatalf("outcome %+v", ro)
			}
		}},
		{"body", `require ["body", "fileinto"]; if body :contains "the body" { fileinto "Body"; }`,
			func(t *testing.T, res pipeline.Result) {
				if f := res.Recipients[alice].Filings; len(f) != 1 || f[0].Mailbox != "Body" {
					t.Fatalf("filings %+v", f)
				}
			}},
		{"editheader", `require "editheader"; addheader "X-Sieve" "yes";`, func(t *testing.T, res pipeline.Result) {
			h := string(res.Recipients[alice].Header)
			if !strings.HasPrefix(h, "X-Sieve: yes\r\n") || !strings.Contains(h, "Subject: hello\r\n") || strings.Contains(h, "Authentication-Results") {
				t.Fatalf("header %q", h)
			}
		}},
		{"envelope and subaddress", `require ["envelope", "subaddress", "fileinto"];
if envelope :detail "to" "lists" { fileinto "Lists"; }`,
			func(t *testing.T, res pipeline.Result) {
				if f := res.Recipients[alice].Filings; len(f) != 1 || f[0].Mailbox != "Lists" {
					t.Fatalf("filings %+v", f)
				}
			}},
		{"spamtest", `require ["spamtest", "fileinto", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "10" { fileinto "Junk"; }`,
			func(t *testing.T, res pipeline.Result) {
				if f := res.Recipients[alice].Filings; len(f) != 1 || f[0].Mailbox != "Junk" {
					t.Fatalf("filings %+v", f)
				}
			}},
		{"environment", `require ["environment", "fileinto"]; if environment :is "host" "mx.example.com" { fileinto "Env"; }`,
			func(t *testing.T, res pipeline.Result) {
				if f := res.Recipients[alice].Filings; len(f) != 1 || f[0].Mailbox != "Env" {
					t.Fatalf("filings %+v", f)
				}
			}},
		{"duplicate", `require "duplicate"; if duplicate { discard; }`, func(t *testing.T, res pipeline.Result) {
			ds := duplicates(res)
			if len(ds) != 1 || len(ds[0].GetIds()) != 1 || ds[0].GetUser() != alice {
				t.Fatalf("records %v", ds)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newRealHarness(t, sieve.Limits{})
			h.store.put(alice, "s", tc.script)
			env := mxEnv("sender@remote.test", alice)
			env.RcptTo = map[string]string{alice: "alice+lists@example.com"}
			res, err := h.deliver(t, env, testMessage, prependCheck{fields: "Authentication-Results: mx; spf=pass\r\n",
				per: map[string]string{alice: "X-Spam-Status: Yes, score=9.50 required=8.00 tests=BAYES_99\r\n"}})
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, res)
		})
	}
}

// A script that loops or explodes (past the step bound, too many
// redirects, an include of itself) delivers to INBOX.
func TestRealScriptsThatExplodeKeep(t *testing.T) {
	many := `require "fileinto";` + strings.Repeat(`if header :contains "subject" "x" { fileinto "X"; }`+"\n", 50)
	for name, script := range map[string]string{
		"steps":        many,
		"redirects":    `redirect "a@r.test"; redirect "b@r.test"; redirect "c@r.test";`,
		"self include": `require "include"; include "s";`,
		"syntax":       `if true {`,
		"conflict":     `require ["reject", "fileinto"]; reject "no"; fileinto "X";`,
	} {
		t.Run(name, func(t *testing.T) {
			h := newRealHarness(t, sieve.Limits{MaxSteps: 20, MaxRedirects: 2})
			h.store.put(alice, "s", script)
			res, err := h.deliver(t, mxEnv("sender@remote.test", alice), testMessage)
			if err != nil {
				t.Fatal(err)
			}
			if ro, ok := res.Recipients[alice]; ok {
				t.Fatalf("outcome %+v, want the implicit keep", ro)
			}
			if len(res.Events) != 0 || !strings.Contains(res.Notes[0], "failed:1") {
				t.Fatalf("events %v, notes %q", res.Events, res.Notes)
			}
		})
	}
}

// RFC 5230 with the real builder: one reply, Auto-Submitted, In-Reply-To;
// none to bulk mail.
func TestRealVacation(t *testing.T) {
	h := newRealHarness(t, sieve.Limits{})
	h.store.put(alice, "v", `require "vacation"; vacation :days 1 :subject "Away" "I am away.";`)
	res, err := h.deliver(t, mxEnv("sender@remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	vs, bs := vacations(res), blobs(res)
	if len(vs) != 1 || len(bs) != 1 {
		t.Fatalf("%d records, %d bodies", len(vs), len(bs))
	}
	reply := string(bs[0].GetData())
	for _, want := range []string{"Auto-Submitted: auto-replied", "In-Reply-To: <1@remote.test>", "Subject: Away", "I am away.", "To: <sender@remote.test>"} {
		if !strings.Contains(reply, want) {
			t.Errorf("reply lacks %q:\n%s", want, reply)
		}
	}
	if vs[0].GetExpiresUnix()-vs[0].GetRepliedUnix() != 24*3600 || vs[0].GetHandle() == "" {
		t.Fatalf("record %v", vs[0])
	}
	res, err = h.deliver(t, mxEnv("sender@remote.test", alice), "Precedence: bulk\r\n"+testMessage)
	if err != nil || len(res.Events) != 0 {
		t.Fatalf("bulk: %v, %v", err, res.Events)
	}
}

// RFC 5429 with the real builder: refused when alone, an MDN otherwise.
func TestRealReject(t *testing.T) {
	h := newRealHarness(t, sieve.Limits{})
	h.store.put(alice, "r", `require "reject"; reject "no thanks";`)
	res, err := h.deliver(t, mxEnv("sender@remote.test", alice), testMessage)
	if err != nil || res.Action != pipeline.Refuse || res.Reply.Code != 550 || res.Reply.Text != "no thanks" {
		t.Fatalf("alone: %v, %v %v", err, res.Action, res.Reply)
	}
	res, err = h.deliver(t, mxEnv("sender@remote.test", alice, "bob@example.com"), testMessage)
	if err != nil || res.Action != pipeline.Deliver {
		t.Fatalf("with bob: %v, %v", err, res.Action)
	}
	bs := blobs(res)
	if len(bs) != 1 || !strings.Contains(string(bs[0].GetData()), "no thanks") || !strings.Contains(string(bs[0].GetData()), "deleted") {
		t.Fatalf("MDN %v", bs)
	}
	if q := queued(res); len(q) != 1 || q[0].GetRecipients()[0].GetAddress() != "sender@remote.test" {
		t.Fatalf("queued %v", q)
	}
}
