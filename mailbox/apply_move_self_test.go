package mailbox

import (
	"slices"
	"testing"
)

// TestMoveWithinMailbox: a Moved event whose target is its source (IMAP
// MOVE into the selected mailbox) gives the messages new UIDs, and
// announces MessagesAdded then MessagesExpunged with increasing modseqs,
// so that a reader applying the changes one at a time sees both.
func TestMoveWithinMailbox(t *testing.T) {
	f := newFixture(t)
	f.ok(delivered(f.hash, f.size, rcpt(userA, "")), delivered(f.hash, f.size, rcpt(userA, "")))
	all := f.s.Subscribe("")
	defer all.Close()
	f.ok(moved(f.inbox, uidRanges(1, 1), f.inbox))
	got := drain(all)
	if len(got) != 2 || got[0].Kind != MessagesAdded || got[1].Kind != MessagesExpunged {
		t.Fatalf("changes %+v", got)
	}
	mb, err := f.s.Mailbox(f.inbox)
	if err != nil {
		t.Fatal(err)
	}
	if newest := mb.GetUidNext() - 1; !slices.Equal(got[0].UIDs, []uint32{newest}) || !slices.Equal(got[1].UIDs, []uint32{1}) {
		t.Fatalf("UIDs %v then %v, want [%d] then [1]", got[0].UIDs, got[1].UIDs, newest)
	}
	if got[0].ModSeq >= got[1].ModSeq || got[1].ModSeq != mb.GetHighestModseq() {
		t.Fatalf("modseqs %d then %d, mailbox %d", got[0].ModSeq, got[1].ModSeq, mb.GetHighestModseq())
	}
	if mb.GetMessages() != 3 {
		t.Fatalf("%d messages after the move", mb.GetMessages())
	}
}
