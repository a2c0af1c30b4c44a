package smtp

import (
	"bytes"
	"slices"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// Per-recipient outcomes (pipeline.RecipientOutcome): the checks may give
// one recipient's copy header fields of its own (a per-user spam verdict)
// or send it to Junk alone. The local recipients are grouped by the copy
// they get, (head, junk), in recipient order; each group is one Delivered
// event. The first group's head goes on the body as it was streamed (the
// staged upload's BlobStored); every other head is a second body,
// BlobStored.copy_of the first, in the same proposal, so that one commit
// still makes the message visible to all its recipients and one 250 covers
// them (docs/DESIGN.md invariants 1 and 4). Groups that differ only in
// their action share a body: Junk is where the copy is filed, not what it
// holds.
//
// A copy is a whole body: apply writes the message again for it. What
// copies may cost is bounded per message (maxCopyBytes, maxCopyHeadBytes):
// past it, a recipient's own fields are left out (it gets the whole
// message's, still its own action) and a warning is logged.

// copyGroup is the local recipients that get the same copy.
type copyGroup struct {
	head  []byte   // stored on top of the message
	junk  bool     // filed in \Junk (RFC 6154)
	local []string // canonical users, in RCPT order
}

const (
	// maxCopyBytes bounds the bytes apply writes for a message's copies
	// beyond its first body: a 25 MiB message gets one copy, a 40 KiB one
	// a copy for each of 100 recipients.
	maxCopyBytes = 32 << 20
	// maxCopyHeadBytes bounds the copies' heads in the delivery's
	// proposal, well under its 1 MiB bound (cluster.MaxProposalSize) with
	// the last chunk (256 KiB) and the first head (at most 64 KiB).
	maxCopyHeadBytes = 256 << 10
)

// groupCopies groups local by the copy each recipient gets from the
// checks' result; headFor makes the stored head from the checks' fields
// (storedHead). squeezed are the recipients whose own fields were left out
// for want of budget.
func groupCopies(res pipeline.Result, local []string, headFor func(prepend []byte) []byte, bodySize int) (groups []copyGroup, squeezed []string) {
	base := headFor(res.Prepend)
	var (
		heads                [][]byte // distinct, the first being the streamed body's
		copyBytes, headBytes int
	)
	known := func(h []byte) bool {
		return slices.ContainsFunc(heads, func(x []byte) bool { return bytes.Equal(x, h) })
	}
	for _, u := range local {
		prepend, action := res.For(u)
		head := base
		if len(res.Recipients[u].Prepend) > 0 {
			head = headFor(prepend)
		}
		if !known(head) {
			cost := len(head) + bodySize
			switch {
			case len(head) > evlog.MaxHead && !bytes.Equal(head, base), len(heads) > 0 && (copyBytes+cost > maxCopyBytes || headBytes+len(head) > maxCopyHeadBytes):
				squeezed = append(squeezed, u)
				head = base
			case len(heads) > 0:
				copyBytes += cost
				headBytes += len(head)
			}
			if !known(head) {
				// base, past the budget, is one copy more at most.
				heads = append(heads, head)
			}
		}
		junk := action == pipeline.Junk
		i := slices.IndexFunc(groups, func(g copyGroup) bool { return g.junk == junk && bytes.Equal(g.head, head) })
		if i < 0 {
			groups = append(groups, copyGroup{head: head, junk: junk})
			i = len(groups) - 1
		}
		groups[i].local = append(groups[i].local, u)
	}
	return groups, squeezed
}

// bodies are the BlobStored events of one delivery: the streamed body with
// its head first, then a copy of it for each other head.
type bodies struct {
	body   *storedBody
	stored []*evlog.BlobStored
}

// forHead returns the BlobStored of the body with head on top, adding a
// copy of the first when there is none yet.
func (b *bodies) forHead(head []byte) *evlog.BlobStored {
	for _, s := range b.stored {
		if bytes.Equal(s.GetHead(), head) {
			return s
		}
	}
	first := b.stored[0]
	cp := evlog.HeadedCopy(head, b.body.sum, uint64(b.body.size), first.GetHash(), uint64(len(first.GetHead())))
	b.stored = append(b.stored, cp)
	return cp
}
