package dkimsign

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// TestCheck runs the submission check as the SMTP server does: through
// pipeline.Start, Reader and Finish.
func TestCheck(t *testing.T) {
	st := mailboxtest.Open(t)
	rec := domainRecord(t)
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.test", DkimKeys: rec.GetDkimKeys()}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: "ann@example.test", PasswordHash: "x"}}},
		&evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "old.test"}}}, // no keys: from before keys
		&evlog.Event{Kind: &evlog.Event_AliasAdded{AliasAdded: &evlog.AliasAdded{Alias: "ann@old.test", Target: "ann@example.test"}}})
	keys := NewKeys(st.Store)
	defer keys.Close()
	checks := []pipeline.Check{NewCheck(keys, st.Store, nil)}
	ctx := context.Background()
	submit := func(env pipeline.Envelope, msg string) (pipeline.Result, error) {
		runs, err := pipeline.Start(ctx, checks, env)
		if err != nil {
			return pipeline.Result{}, err
		}
		stored, err := io.ReadAll(runs.Reader(strings.NewReader(msg)))
		if err != nil || string(stored) != msg {
			t.Fatalf("the check changed the stored stream: %v", err)
		}
		return runs.Finish(ctx)
	}
	sub := pipeline.Envelope{Submission: true, User: "ann@example.test", Received: time.Now()}

	res, err := submit(sub, testMessage)
	if err != nil || res.Action != pipeline.Deliver {
		t.Fatalf("aligned: %+v %v", res, err)
	}
	vs := verify(t, rec, append(res.Prepend, testMessage...))
	if len(vs) != 2 || vs[0].Err != nil || vs[1].Err != nil || vs[0].Domain != "example.test" {
		t.Fatalf("signatures: %+v", vs)
	}
	if !strings.HasPrefix(string(res.Prepend), "DKIM-Signature: ") || !strings.HasSuffix(string(res.Prepend), "\r\n") {
		t.Fatalf("prepend %q", res.Prepend)
	}

	res, err = submit(sub, strings.Replace(testMessage, "From: Ann <ann@example.test>", "From: Bo <bo@example.test>", 1))
	if err != nil || res.Action != pipeline.Refuse || res.Reply.Code != 553 || res.Reply.Enhanced != [3]int{5, 7, 1} ||
		len(res.Prepend) != 0 || !strings.Contains(res.Reply.Text, "bo@example.test") {
		t.Fatalf("misaligned: %+v %v", res, err)
	}

	// Her alias in a domain without keys: delivered unsigned.
	res, err = submit(sub, strings.Replace(testMessage, "ann@example.test>", "ann@old.test>", 1))
	if err != nil || res.Action != pipeline.Deliver || len(res.Prepend) != 0 || !strings.Contains(strings.Join(res.Notes, ";"), "no key for old.test") {
		t.Fatalf("unsigned domain: %+v %v", res, err)
	}

	// A message that is all header is signed too.
	if res, err = submit(sub, "From: ann@example.test\r\nSubject: x\r\n"); err != nil || len(res.Prepend) == 0 {
		t.Fatalf("header only: %+v %v", res, err)
	}

	// The MX port and unauthenticated sessions are not this check's.
	for _, env := range []pipeline.Envelope{{Submission: false, User: "ann@example.test"}, {Submission: true}} {
		if res, err := submit(env, strings.Replace(testMessage, "ann@", "bo@", 1)); err != nil || res.Action != pipeline.Deliver || len(res.Prepend) != 0 {
			t.Errorf("%+v: %+v %v", env, res, err)
		}
	}

	// A store that fails is a temporary failure, not a refusal.
	failing := []pipeline.Check{NewCheck(keys, failingOwners{}, nil)}
	runs, _ := pipeline.Start(ctx, failing, sub)
	_, _ = io.ReadAll(runs.Reader(strings.NewReader(strings.Replace(testMessage, "ann@", "sales@", 1))))
	var reply *pipeline.Reply
	if _, err := runs.Finish(ctx); err == nil || errors.As(err, &reply) {
		t.Fatalf("look-up failure: %v", err)
	}
}
