package pipeline

import (
	"bytes"
	"context"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// follower is a check whose run is a Follower: it records the Result it
// was given and answers what decide makes of it.
type follower struct {
	name   string
	decide func(earlier Result) Outcome
	got    *[]Result
}

func (f follower) Name() string { return f.name }

func (f follower) Start(context.Context, Envelope) (Run, error) { return followerRun{f}, nil }

type followerRun struct{ f follower }

func (followerRun) Write(p []byte) (int, error) { return len(p), nil }
func (followerRun) Abort()                      {}
func (r followerRun) Finish(context.Context) (Outcome, error) {
	panic("Finish called on a Follower")
}
func (r followerRun) FinishAfter(_ context.Context, earlier Result) (Outcome, error) {
	*r.f.got = append(*r.f.got, earlier)
	return r.f.decide(earlier), nil
}

// finish starts checks, streams a small message through them and finishes.
func finish(t *testing.T, checks ...Check) (Result, error) {
	t.Helper()
	rs, err := Start(context.Background(), checks, Envelope{Local: []string{"a@x.test", "b@x.test"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rs.Reader(strings.NewReader("Subject: x\r\n\r\nbody\r\n")).Read(make([]byte, 64)); err != nil {
		t.Fatal(err)
	}
	return rs.Finish(context.Background())
}

// TestFollowerSeesEarlier: a Follower is given what the runs before it
// decided (facts, action, fields, recipients), not what comes after it,
// and its own outcome joins the result like any other.
func TestFollowerSeesEarlier(t *testing.T) {
	var got []Result
	f := follower{name: "classifier", got: &got, decide: func(earlier Result) Outcome {
		status := "No"
		if v, _ := earlier.Fact("dmarc"); v != "pass" || earlier.Action == Junk {
			status = "Yes"
		}
		return Outcome{Prepend: []byte("X-Spam-Status: " + status + "\r\n"), Facts: []string{"spam=" + status}}
	}}
	res, err := finish(t,
		fixed{name: "mailauth", outcome: Outcome{Facts: []string{"spf=pass", "dmarc=pass", "dmarc.from=x.test"}, Prepend: []byte("A-R: x\r\n")}},
		fixed{name: "rspamd", outcome: Outcome{Action: Junk, Recipients: map[string]RecipientOutcome{"a@x.test": {Prepend: []byte("R: a\r\n")}}}},
		f,
		fixed{name: "after", outcome: Outcome{Facts: []string{"after=1"}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("FinishAfter called %d times", len(got))
	}
	e := got[0]
	if v, ok := e.Fact("dmarc.from"); !ok || v != "x.test" || e.Action != Junk || string(e.Prepend) != "A-R: x\r\n" {
		t.Fatalf("follower saw %+v", e)
	}
	if _, ok := e.Fact("after"); ok {
		t.Fatal("follower saw a later check's fact")
	}
	if p, _ := e.For("a@x.test"); string(p) != "A-R: x\r\nR: a\r\n" {
		t.Fatalf("follower saw a@'s fields %q", p)
	}
	if string(res.Prepend) != "A-R: x\r\nX-Spam-Status: Yes\r\n" || res.Action != Junk {
		t.Fatalf("result %+v", res)
	}
	if strings.Join(res.Facts, " ") != "spf=pass dmarc=pass dmarc.from=x.test spam=Yes after=1" {
		t.Fatalf("facts %q", res.Facts)
	}
}

// TestFact: the first fact of that name; a name is matched whole.
func TestFact(t *testing.T) {
	r := Result{Facts: []string{"dkim=fail", "dkim=pass", "dmarc.from=x.test", "bare", "empty="}}
	for _, c := range []struct {
		name, want string
		ok         bool
	}{
		{"dkim", "fail", true},
		{"dmarc.from", "x.test", true},
		{"dmarc", "", false},
		{"bare", "", false},
		{"empty", "", true},
		{"", "", false},
	} {
		if v, ok := r.Fact(c.name); v != c.want || ok != c.ok {
			t.Errorf("Fact(%q) = %q, %v; want %q, %v", c.name, v, ok, c.want, c.ok)
		}
	}
}

// TestRecipientsMerge: per-recipient fields join in check order, the
// strongest action per recipient holds, and For puts the whole message's
// fields first and takes the stronger of the two actions.
func TestRecipientsMerge(t *testing.T) {
	res, err := finish(t,
		fixed{name: "one", outcome: Outcome{Prepend: []byte("W: 1\r\n"), Recipients: map[string]RecipientOutcome{
			"a@x.test": {Prepend: []byte("A: 1\r\n"), Action: Junk},
			"b@x.test": {Prepend: []byte("B: 1\r\n")},
		}}},
		fixed{name: "two", outcome: Outcome{Prepend: []byte("W: 2\r\n"), Recipients: map[string]RecipientOutcome{
			"a@x.test": {Prepend: []byte("A: 2\r\n"), Action: Deliver},
		}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		rcpt, prepend string
		action        Action
	}{
		{"a@x.test", "W: 1\r\nW: 2\r\nA: 1\r\nA: 2\r\n", Junk},
		{"b@x.test", "W: 1\r\nW: 2\r\nB: 1\r\n", Deliver},
		{"c@x.test", "W: 1\r\nW: 2\r\n", Deliver},
	} {
		p, a := res.For(c.rcpt)
		if string(p) != c.prepend || a != c.action {
			t.Errorf("For(%s) = %q, %v; want %q, %v", c.rcpt, p, a, c.prepend, c.action)
		}
	}
	// For never writes into the result's own fields.
	if string(res.Prepend) != "W: 1\r\nW: 2\r\n" {
		t.Fatalf("result's fields became %q", res.Prepend)
	}

	// A whole-message Junk holds for every recipient.
	res = Result{Action: Junk, Recipients: map[string]RecipientOutcome{"a@x.test": {Action: Deliver}}}
	if _, a := res.For("a@x.test"); a != Junk {
		t.Fatalf("For under a whole-message Junk: %v", a)
	}
}

// TestRecipientsNotAliased: a check's per-recipient fields are copied, not
// appended to in place (a check may hand out a slice of its own buffer).
func TestRecipientsNotAliased(t *testing.T) {
	buf := make([]byte, 0, 64)
	buf = append(buf, "A: 1\r\n"...)
	res, err := finish(t,
		fixed{name: "one", outcome: Outcome{Recipients: map[string]RecipientOutcome{"a@x.test": {Prepend: buf}}}},
		fixed{name: "two", outcome: Outcome{Recipients: map[string]RecipientOutcome{"a@x.test": {Prepend: []byte("A: 2\r\n")}}}},
	)
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := res.For("a@x.test"); string(p) != "A: 1\r\nA: 2\r\n" || !bytes.Equal(buf[:cap(buf)][6:12], make([]byte, 6)) {
		t.Fatalf("fields %q; the check's buffer became %q", p, buf[:12])
	}
}

// TestPerRecipientRefuseIsAnError: SMTP has one reply for every recipient
// after DATA, so a check refusing one recipient alone is a failure of the
// check (451 at the caller), never a silent delivery to that recipient.
func TestPerRecipientRefuseIsAnError(t *testing.T) {
	res, err := finish(t,
		fixed{name: "ok", outcome: Outcome{Prepend: []byte("W: 1\r\n")}},
		fixed{name: "careless", outcome: Outcome{Prepend: []byte("C: 1\r\n"), Recipients: map[string]RecipientOutcome{"a@x.test": {Action: Refuse}}}},
	)
	if err == nil || !strings.Contains(err.Error(), "careless") || !strings.Contains(err.Error(), "a@x.test") {
		t.Fatalf("error %v", err)
	}
	if string(res.Prepend) != "W: 1\r\n" || res.Recipients != nil {
		t.Fatalf("the failed check's outcome was used: %+v", res)
	}
}

// TestAbortAfterRefuse: once a run refused, the runs after it are aborted
// instead of finished (a Follower too), and the refusal's reply holds.
func TestAbortAfterRefuse(t *testing.T) {
	var aborted int
	var got []Result
	reject := &Reply{Code: 554, Enhanced: [3]int{5, 7, 1}, Text: "infected"}
	res, err := finish(t,
		fixed{name: "clamd", outcome: Outcome{Action: Refuse, Reply: reject, Events: nil}},
		fixed{name: "rspamd", aborted: &aborted, outcome: Outcome{Prepend: []byte("X: 1\r\n")}},
		follower{name: "classifier", got: &got, decide: func(Result) Outcome { return Outcome{} }},
	)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != Refuse || res.Reply != reject || len(res.Prepend) != 0 || aborted != 1 || len(got) != 0 {
		t.Fatalf("result %+v, %d aborted, follower finished %d times", res, aborted, len(got))
	}
}

// TestTemporaryRefusalKeepsOnlyItsOwnEvents: a message greylisted after
// its DMARC verdict is recorded once, when it is accepted on the retry,
// not once per attempt.
func TestTemporaryRefusalKeepsOnlyItsOwnEvents(t *testing.T) {
	dmarc := &evlog.Event{Kind: &evlog.Event_DmarcRecorded{DmarcRecorded: &evlog.DmarcRecorded{}}}
	grey := &evlog.Event{Kind: &evlog.Event_GreylistRecorded{GreylistRecorded: &evlog.GreylistRecorded{}}}
	for _, tc := range []struct {
		code int
		want []*evlog.Event
	}{
		{451, []*evlog.Event{grey}},
		{550, []*evlog.Event{dmarc, grey}},
	} {
		checks := []Check{
			judge{name: "mailauth", o: Outcome{Events: []*evlog.Event{dmarc}}},
			judge{name: "greylist", o: Outcome{Action: Refuse, Reply: &Reply{Code: tc.code}, Events: []*evlog.Event{grey}}},
		}
		rs, err := Start(context.Background(), checks, Envelope{})
		if err != nil {
			t.Fatal(err)
		}
		res, err := rs.Finish(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Events) != len(tc.want) {
			t.Fatalf("refused with %d: %d events, want %d", tc.code, len(res.Events), len(tc.want))
		}
		for i := range tc.want {
			if res.Events[i] != tc.want[i] {
				t.Errorf("refused with %d: event %d is %v", tc.code, i, res.Events[i])
			}
		}
	}
}
