package filter

import (
	"bytes"
	"crypto/sha256"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/sieve"
)

func vacationScript(h *harness, user string, v sieve.Vacation) {
	h.interp.result("vacation", sieve.Result{Keep: true, Vacation: &v})
	h.store.put(user, "away", "vacation")
}

// RFC 5230: a vacation action becomes the reply's body and a
// VacationReplied carrying its Queued, to the envelope sender with the
// null reverse-path, remembered for the period.
func TestVacationReply(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	vacationScript(h, alice, sieve.Vacation{Handle: "h1", Reason: "I am away", Period: 24 * time.Hour})
	res, err := h.deliver(t, mxEnv("Sender@Remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := res.Recipients[alice]; ok {
		t.Fatal("a vacation with keep changed where the copy goes")
	}
	vs, bs := vacations(res), blobs(res)
	if len(vs) != 1 || len(bs) != 1 {
		t.Fatalf("%d VacationReplied, %d BlobStored", len(vs), len(bs))
	}
	v, b := vs[0], bs[0]
	if v.GetUser() != alice || v.GetSender() != "sender@remote.test" || v.GetHandle() != "h1" {
		t.Fatalf("record %v", v)
	}
	if v.GetRepliedUnix() != h.now.Unix() || v.GetExpiresUnix() != h.now.Add(24*time.Hour).Unix() {
		t.Fatalf("times %d..%d", v.GetRepliedUnix(), v.GetExpiresUnix())
	}
	q := v.GetReply()
	if q.GetMailFrom() != "" || len(q.GetRecipients()) != 1 || q.GetRecipients()[0].GetAddress() != "Sender@Remote.test" {
		t.Fatalf("reply queued %v", q)
	}
	if len(q.GetId()) != 16 || q.GetQueuedUnix() != h.now.Unix() || q.GetExpiresUnix() <= q.GetQueuedUnix() {
		t.Fatalf("queue entry %v", q)
	}
	sum := sha256.Sum256(b.GetData())
	if !bytes.Equal(b.GetHash(), sum[:]) || !bytes.Equal(q.GetBlob(), b.GetHash()) || q.GetSize() != uint64(len(b.GetData())) {
		t.Fatal("the reply's Queued does not name its body")
	}
	if !strings.Contains(string(b.GetData()), "I am away") {
		t.Fatalf("reply %q", b.GetData())
	}
	// The body comes before what references it.
	if res.Events[0].GetBlobStored() == nil {
		t.Fatalf("first event %s", res.Events[0].Name())
	}
	if res.Notes[0] != "sieve=keep,vacation" {
		t.Fatalf("note %q", res.Notes)
	}
}

// No reply to the null sender, to what ShouldReply refuses (lists, bulk:
// RFC 3834 §2), nor when a reply is recorded as running.
func TestVacationNoReply(t *testing.T) {
	const alice = "alice@example.com"
	for _, tc := range []struct {
		name string
		from string
		msg  string
		prep func(h *harness)
	}{
		{name: "null sender", from: "", msg: testMessage},
		{name: "bulk", from: "s@remote.test", msg: "Precedence: bulk\r\n" + testMessage},
		{name: "already replied", from: "S@remote.test", msg: testMessage,
			prep: func(h *harness) { h.store.replied[alice+"|h1|s@remote.test"] = true }},
		{name: "refused", from: "s@remote.test", msg: testMessage,
			prep: func(h *harness) { h.replies.refuse = "list" }},
		{name: "too large", from: "s@remote.test", msg: testMessage,
			prep: func(h *harness) { h.replies.big = true }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t)
			vacationScript(h, alice, sieve.Vacation{Handle: "h1", Reason: "away"})
			if tc.prep != nil {
				tc.prep(h)
			}
			res, err := h.deliver(t, mxEnv(tc.from, alice), tc.msg)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Events) != 0 {
				t.Fatalf("events %v", res.Events)
			}
		})
	}
}

// RFC 5230 §4.1, RFC 6131: the period is clamped; none is 7 days.
func TestVacationPeriod(t *testing.T) {
	for _, tc := range []struct{ in, want time.Duration }{
		{0, 7 * 24 * time.Hour},
		{time.Millisecond, time.Second},
		{90 * 24 * time.Hour, 30 * 24 * time.Hour},
		{2 * time.Hour, 2 * time.Hour},
	} {
		if got := vacationPeriod(tc.in); got != tc.want {
			t.Errorf("vacationPeriod(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

// Without a handle from the interpreter one is derived from the
// arguments: the same vacation shares it, another does not.
func TestVacationDerivedHandle(t *testing.T) {
	a := derivedHandle(&sieve.Vacation{Subject: "away", Reason: "r"})
	if a != derivedHandle(&sieve.Vacation{Subject: "away", Reason: "r"}) || a == derivedHandle(&sieve.Vacation{Subject: "away", Reason: "r2"}) {
		t.Fatal("derived handles")
	}
}

// Two recipients on vacation: one reply each, each recorded for its user.
func TestVacationPerRecipient(t *testing.T) {
	h := newHarness(t)
	vacationScript(h, "a@example.com", sieve.Vacation{Handle: "h", Reason: "away"})
	h.store.put("b@example.com", "away", "vacation")
	res, err := h.deliver(t, mxEnv("s@remote.test", "a@example.com", "b@example.com"), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	vs := vacations(res)
	if len(vs) != 2 || vs[0].GetUser() != "a@example.com" || vs[1].GetUser() != "b@example.com" {
		t.Fatalf("records %v", vs)
	}
	// The replies are identical messages: one body, stored twice in the
	// entry, is harmless (apply stores a body once).
	if len(queued(res)) != 0 {
		t.Fatal("a vacation reply queued outside its VacationReplied")
	}
}
