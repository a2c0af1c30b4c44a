package mailbox

import (
	"bytes"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func key(n byte) []byte { return bytes.Repeat([]byte{n}, proposalKeyLen) }

// applyKeyed applies one keyed proposal as the next entry.
func (h *harness) applyKeyed(k []byte, proposedAt uint64, events ...*evlog.Event) []byte {
	h.t.Helper()
	h.index++
	return h.s.ApplyEntry(h.index, []Proposal{{Key: k, ProposedAt: proposedAt, Data: encode(h.t, events...)}})[0]
}

// TestRepeatedProposalAppliedOnce: a copy of a keyed proposal (a re-send
// after a lost answer) changes nothing and gets the first's outcome,
// assigned UIDs included, byte for byte.
func TestRepeatedProposalAppliedOnce(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	hash := h.store(body1)
	deliver := delivered(hash, len(body1), rcpt(userA, ""))
	first := h.applyKeyed(key(1), h.index, deliver)
	if o := decodeOutcome(t, first); o.GetError() != 0 || o.GetResults()[0].GetUids()[0].GetFirst() != 1 {
		t.Fatalf("first copy: %v", o)
	}
	_, before, _ := h.s.Digest()
	// Later entries in between, as on a busy cluster.
	h.ok(mailboxCreated(userA, "Work", 0))
	_, mid, _ := h.s.Digest()
	again := h.applyKeyed(key(1), h.index-2, deliver)
	if !bytes.Equal(again, first) {
		t.Fatalf("copy answered %v, first %v", decodeOutcome(t, again), decodeOutcome(t, first))
	}
	if got := h.uids(h.mailbox(userA, "INBOX").GetId()); len(got) != 1 {
		t.Fatalf("INBOX UIDs %v after a repeated delivery, want one message", got)
	}
	if _, after, _ := h.s.Digest(); after != mid || mid == before {
		t.Fatal("the repeated proposal changed the state")
	}
	// A refusal is remembered too: the copy is refused alike, even though
	// it would succeed now.
	refused := h.applyKeyed(key(2), h.index, mailboxCreated(userB, "X", 0))
	h.ok(userCreated(userB, 2000))
	if again := h.applyKeyed(key(2), h.index-2, mailboxCreated(userB, "X", 0)); !bytes.Equal(again, refused) {
		t.Fatalf("copy of a refused proposal answered %v", decodeOutcome(t, again))
	}
	if _, err := h.s.MailboxByName(userB, "X"); err == nil {
		t.Fatal("the copy of a refused proposal was applied")
	}
}

// TestIdempotencyWindow: keys are forgotten IdempotencyWindow entries
// after the entry that applied them, counted in log indexes, and a copy
// first sent longer ago than that is refused as stale (temporary) rather
// than applied a second time.
func TestIdempotencyWindow(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	hash := h.store(body1)
	deliver := delivered(hash, len(body1), rcpt(userA, ""))
	sentAt := h.index
	h.applyKeyed(key(7), sentAt, deliver)
	applied := h.index
	if !h.remembered(key(7)) {
		t.Fatal("key not recorded")
	}
	// Entries up to the edge of the window keep it.
	h.index = applied + IdempotencyWindow - 2
	h.applyKeyed(key(8), h.index, mailboxCreated(userA, "A", 0))
	if !h.remembered(key(7)) {
		t.Fatal("key forgotten inside the window")
	}
	// A copy in the entry that forgets it is still answered from the
	// record (looked up before the entry prunes).
	if o := decodeOutcome(t, h.applyKeyed(key(7), sentAt, deliver)); o.GetError() == evlog.ErrorCode_ERROR_CODE_STALE_PROPOSAL {
		t.Fatalf("copy inside the window refused: %v", o)
	}
	h.applyKeyed(key(9), h.index, mailboxCreated(userA, "B", 0))
	if h.remembered(key(7)) {
		t.Fatal("key kept past the window")
	}
	o := decodeOutcome(t, h.applyKeyed(key(7), sentAt, deliver))
	if o.GetError() != evlog.ErrorCode_ERROR_CODE_STALE_PROPOSAL {
		t.Fatalf("copy past the window: %v %s, want STALE_PROPOSAL", o.GetError(), o.GetMessage())
	}
	if got := h.uids(h.mailbox(userA, "INBOX").GetId()); len(got) != 1 {
		t.Fatalf("INBOX UIDs %v, want the one delivery", got)
	}
	// A fresh proposal is applied as usual.
	if o := decodeOutcome(t, h.applyKeyed(key(10), h.index, deliver)); o.GetError() != 0 {
		t.Fatalf("fresh proposal: %v", o)
	}
}

func (h *harness) remembered(k []byte) bool {
	h.t.Helper()
	_, ok, err := h.get(proposalKey(k))
	if err != nil {
		h.t.Fatal(err)
	}
	return ok
}

// get reads a raw key.
func (h *harness) get(k []byte) ([]byte, bool, error) {
	var v []byte
	var ok bool
	err := h.s.view(func(r reader) error {
		return scanRange(r, k, keyAfter(k), func(_, val []byte) (bool, error) {
			v, ok = append([]byte(nil), val...), true
			return false, nil
		})
	})
	return v, ok, err
}

// TestKeyedReplayAfterCrash: keys are in the store, so a restarted node
// replaying the log answers a copy as before the restart.
func TestKeysSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	h := &harness{t: t, s: s}
	h.ok(domainAdded("example.org"), userCreated(userA, 1000))
	hash := h.store(body1)
	first := h.applyKeyed(key(3), h.index, delivered(hash, len(body1), rcpt(userA, "")))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	h.s = openStore(t, dir)
	defer h.s.Close()
	if again := h.applyKeyed(key(3), h.index-1, delivered(hash, len(body1), rcpt(userA, ""))); !bytes.Equal(again, first) {
		t.Fatalf("after a restart the copy answered %v", decodeOutcome(t, again))
	}
}

// TestMalformedKeyRefused: a key of the wrong length (no node writes one)
// is refused as invalid and not remembered, so it can never trip the
// pruning of keys later.
func TestMalformedKeyRefused(t *testing.T) {
	h := newHarness(t)
	o := decodeOutcome(t, h.applyKeyed([]byte("short"), h.index, domainAdded("example.org")))
	if o.GetError() != evlog.ErrorCode_ERROR_CODE_INVALID {
		t.Fatalf("outcome %v, want INVALID", o)
	}
	if h.remembered([]byte("short")) {
		t.Fatal("a malformed key was recorded")
	}
}
