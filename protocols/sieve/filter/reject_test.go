package filter

import (
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// RFC 5429 §2.1.1: when every local recipient rejects and none is remote,
// the message is refused at the end of DATA with 550 5.7.1 and the reason.
func TestRejectAllRefuses(t *testing.T) {
	h := newHarness(t)
	h.interp.result("reject", sieve.Result{Reject: &sieve.Reject{Reason: "no thanks\r\nreally"}})
	h.store.put("a@example.com", "r", "reject")
	h.store.put("b@example.com", "r", "reject")
	res, err := h.deliver(t, mxEnv("s@remote.test", "a@example.com", "b@example.com"), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != pipeline.Refuse || res.Reply == nil {
		t.Fatalf("action %v", res.Action)
	}
	if r := res.Reply; r.Code != 550 || r.Enhanced != [3]int{5, 7, 1} || r.Text != "no thanks really" {
		t.Fatalf("reply %v", r)
	}
	if len(res.Events) != 0 {
		t.Fatalf("a refused message records %v", res.Events)
	}
}

// RFC 5429 §2.1.2: when others accept, the rejecting recipient gets no
// copy and the sender an MDN, queued with the null reverse-path.
func TestRejectSomeSendsMDN(t *testing.T) {
	h := newHarness(t)
	h.interp.result("reject", sieve.Result{Reject: &sieve.Reject{Reason: "no thanks"}})
	h.store.put("a@example.com", "r", "reject")
	res, err := h.deliver(t, mxEnv("s@remote.test", "a@example.com", "b@example.com"), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if res.Action != pipeline.Deliver {
		t.Fatalf("action %v", res.Action)
	}
	if got := res.Recipients["a@example.com"]; !got.Discard {
		t.Fatalf("the rejecting recipient's outcome %+v", got)
	}
	qs, bs := queued(res), blobs(res)
	if len(qs) != 1 || len(bs) != 1 {
		t.Fatalf("%d queued, %d bodies", len(qs), len(bs))
	}
	if q := qs[0]; q.GetMailFrom() != "" || q.GetRecipients()[0].GetAddress() != "s@remote.test" || string(q.GetBlob()) != string(bs[0].GetHash()) {
		t.Fatalf("queued %v", q)
	}
	if !strings.Contains(string(bs[0].GetData()), "no thanks") {
		t.Fatalf("MDN %q", bs[0].GetData())
	}
	// A remote recipient too: accepted, an MDN.
	h2 := newHarness(t)
	h2.interp.result("reject", sieve.Result{Reject: &sieve.Reject{Reason: "no"}})
	h2.store.put("a@example.com", "r", "reject")
	env := mxEnv("s@example.com", "a@example.com")
	env.Submission, env.Remote = true, []string{"x@remote.test"}
	res, err = h2.deliver(t, env, testMessage)
	if err != nil || res.Action != pipeline.Deliver || len(queued(res)) != 1 {
		t.Fatalf("with a remote recipient: %v, %v, %d queued", err, res.Action, len(queued(res)))
	}
}

// No rejection to the null sender (RFC 5429 §2.1.2).
func TestRejectNullSender(t *testing.T) {
	h := newHarness(t)
	h.interp.result("reject", sieve.Result{Reject: &sieve.Reject{Reason: "no"}})
	h.store.put("a@example.com", "r", "reject")
	res, err := h.deliver(t, mxEnv("", "a@example.com", "b@example.com"), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 0 || !res.Recipients["a@example.com"].Discard {
		t.Fatalf("events %v, outcome %+v", res.Events, res.Recipients["a@example.com"])
	}
}

func TestRejectText(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "Message rejected by the recipient's filter",
		"Ich bin weg\u00e4":      "Ich bin weg?",
		"a\x00b\tc":              "ab c",
		strings.Repeat("x", 300): strings.Repeat("x", 200),
	} {
		if got := rejectText(in); got != want {
			t.Errorf("rejectText(%q) = %q, want %q", in, got, want)
		}
	}
}
