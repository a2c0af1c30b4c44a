package mailbox

import (
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func deliveredFrom(from string, relayed bool, hash []byte, size int, rcpts ...*evlog.Recipient) *evlog.Event {
	return ev(&evlog.Delivered{Blob: hash, Size: uint64(size), InternalDateUnix: 1700000000, Recipients: rcpts,
		ReturnPath: from, Envid: "env-1", Ret: evlog.DsnReturn_DSN_RETURN_HEADERS, Relayed: relayed})
}

// TestSkippedRecipientsCarryReasons: apply says why it skipped each
// recipient, so the front end need not guess from the directory, and an
// accepted message's skipped recipients become a local-failure queue
// entry for the DSN (RFC 3464) that the sender must get.
func TestSkippedRecipientsCarryReasons(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000), userCreated(userB, 2000), quotaSet(userB, 5))
	hash := h.store(body1)
	r := h.one(deliveredFrom("sender@remote.example", false, hash, len(body1), rcpt(userA, ""), rcpt(userB, ""), rcpt(nouser, "")))
	want := map[string]evlog.ErrorCode{userB: evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, nouser: evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER}
	if len(r.GetSkippedRecipients()) != 2 || len(r.GetSkipped()) != 2 {
		t.Fatalf("skipped %v / %v", r.GetSkippedRecipients(), r.GetSkipped())
	}
	for _, s := range r.GetSkippedRecipients() {
		if want[s.GetAddress()] != s.GetReason() {
			t.Errorf("%s skipped for %v, want %v", s.GetAddress(), s.GetReason(), want[s.GetAddress()])
		}
	}
	entries, err := h.s.QueueEntries(10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("%d queue entries, want the one for the DSN", len(entries))
	}
	q := entries[0]
	if !q.GetLocalFailure() || q.GetMailFrom() != "sender@remote.example" || q.GetEnvid() != "env-1" ||
		q.GetRet() != evlog.DsnReturn_DSN_RETURN_HEADERS || len(q.GetRecipients()) != 2 {
		t.Fatalf("queue entry %v", q)
	}
	for _, rc := range q.GetRecipients() {
		reply, status := localFailureReply(want[rc.GetAddress()])
		if rc.GetReply() != reply || rc.GetEnhancedStatus() != status {
			t.Errorf("%s: reply %q status %q", rc.GetAddress(), rc.GetReply(), rc.GetEnhancedStatus())
		}
	}
	due, err := h.s.DueQueueEntries(1700000000, 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("due entries %v, %v: the DSN must be due at once", due, err)
	}
	checkInvariants(t, h.s) // the entry holds a reference to the body
	// Bounced (the worker's DSN proposal) finishes the entry.
	h.ok(ev(&evlog.Bounced{Id: q.GetId(), Recipients: []*evlog.BouncedRecipient{{Address: userB}, {Address: nouser}}, BouncedUnix: 1700000001}))
	if n, _ := h.s.QueueLength(); n != 0 {
		t.Fatalf("%d queue entries after the bounce", n)
	}
	checkInvariants(t, h.s)
}

// TestSkippedWithoutDSN: no DSN entry when nobody got the message (the
// front end refuses it, so the sender keeps it), when it is a DSN itself
// (null reverse-path, RFC 5321 §4.5.5), or when nothing was skipped.
// A message also queued for remote recipients was accepted: its skipped
// local recipients get a DSN even if no local one got it.
func TestSkippedWithoutDSN(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000), userCreated(userB, 2000), quotaSet(userB, 5))
	hash := h.store(body1)
	for name, e := range map[string]*evlog.Event{
		"nobody got it": deliveredFrom("s@remote.example", false, hash, len(body1), rcpt(userB, ""), rcpt(nouser, "")),
		"null sender":   deliveredFrom("", false, hash, len(body1), rcpt(userA, ""), rcpt(userB, "")),
		"none skipped":  deliveredFrom("s@remote.example", false, hash, len(body1), rcpt(userA, "")),
	} {
		h.one(e)
		if n, _ := h.s.QueueLength(); n != 0 {
			t.Fatalf("%s: %d queue entries, want none", name, n)
		}
	}
	h.one(deliveredFrom("s@remote.example", true, hash, len(body1), rcpt(userB, "")))
	if n, _ := h.s.QueueLength(); n != 1 {
		t.Fatalf("relayed message: %d queue entries, want the DSN's", n)
	}
}
