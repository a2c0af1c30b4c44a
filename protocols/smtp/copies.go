package smtp

import (
	"bytes"
	"slices"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// Per-recipient outcomes (pipeline.RecipientOutcome): the checks may give
// one recipient's copy header fields of its own (a per-user spam verdict)
// or send it to Junk alone, replace its header block (Sieve editheader,
// RFC 5293), file it into several mailboxes or none (Sieve's keep,
// fileinto and discard, RFC 5228 §4; sieve.go). The local recipients are
// grouped by the copy they get, (head, header replaced, junk), in
// recipient order; each group is one Delivered event, with one Recipient
// per filing. The first group's head goes on the body as it was streamed (the
// staged upload's BlobStored); every other head is a second body,
// BlobStored.copy_of the first, in the same proposal, so that one commit
// still makes the message visible to all its recipients and one 250 covers
// them (docs/DESIGN.md invariants 1 and 4). Groups that differ only in
// their action share a body: Junk is where the copy is filed, not what it
// holds. A copy with a header block of its own is copy_of the first body
// from past the message's header block (BlobStored.copy_skip), named from
// the SHA-256 of what follows it (storedBody.restSum).
//
// A copy is a whole body: apply writes the message again for it. What
// copies may cost is bounded per message (maxCopyBytes, maxCopyHeadBytes):
// past it, a recipient's own fields are left out (it gets the whole
// message's, still its own action) and a warning is logged.

// copyGroup is the local recipients that get the same copy.
type copyGroup struct {
	head []byte // stored on top of the message
	// skip: head replaces the message's own header block (a check's
	// RecipientOutcome.Header, Sieve editheader), which the copy skips.
	skip  bool
	junk  bool     // filed in \Junk (RFC 6154)
	local []string // canonical users, in RCPT order
	// filings are where each user of local files its copies (the
	// RecipientOutcome's Filings; nil: the one copy it gets anyway).
	filings [][]pipeline.Filing
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

// copyBudget is what a message's copies may still cost (maxCopyBytes,
// maxCopyHeadBytes), shared by the local copies and the redirected ones
// (sieve.go).
type copyBudget struct {
	bodySize             int
	copyBytes, headBytes int
}

// take reserves a copy with head, or reports that it does not fit.
func (b *copyBudget) take(head []byte) bool {
	cost := len(head) + b.bodySize
	if len(head) > evlog.MaxHead || b.copyBytes+cost > maxCopyBytes || b.headBytes+len(head) > maxCopyHeadBytes {
		return false
	}
	b.copyBytes += cost
	b.headBytes += len(head)
	return true
}

// groupCopies groups local by the copy each recipient gets from the
// checks' result; headFor makes the stored head from the checks' fields
// (storedHead). squeezed are the recipients whose own fields were left out
// for want of budget.
func groupCopies(res pipeline.Result, local []string, headFor func(prepend []byte) []byte, bodySize int) (groups []copyGroup, squeezed []string) {
	return groupCopiesWithin(res, local, headFor, &copyBudget{bodySize: bodySize})
}

// groupCopiesWithin is groupCopies within what budget leaves. A recipient
// with no local copy (Discard, or Filings empty but not nil) is in no
// group. The first head that keeps the message's own header block is the
// streamed body's and costs nothing.
func groupCopiesWithin(res pipeline.Result, local []string, headFor func(prepend []byte) []byte, budget *copyBudget) (groups []copyGroup, squeezed []string) {
	base := headFor(res.Prepend)
	type body struct {
		head []byte
		skip bool
	}
	var (
		bodies   []body // distinct
		streamed bool   // one of them keeps the header block: the streamed body
	)
	known := func(h []byte, skip bool) bool {
		return slices.ContainsFunc(bodies, func(x body) bool { return x.skip == skip && bytes.Equal(x.head, h) })
	}
	for _, u := range local {
		own := res.Recipients[u]
		if own.Discard || (own.Filings != nil && len(own.Filings) == 0) {
			continue
		}
		prepend, action := res.For(u)
		head, skip := base, false
		if len(own.Prepend) > 0 {
			head = headFor(prepend)
		}
		if own.Header != nil {
			head = append(slices.Clip(head), own.Header...)
			skip = true
		}
		if !known(head, skip) {
			fits := len(head) <= evlog.MaxHead
			if fits && (skip || streamed) {
				fits = budget.take(head)
			}
			if !fits && !(bytes.Equal(head, base) && !skip) {
				squeezed = append(squeezed, u)
				head, skip = base, false
			}
			if !known(head, skip) {
				// base, past the budget, is one copy more at most.
				bodies = append(bodies, body{head, skip})
				streamed = streamed || !skip
			}
		}
		junk := action == pipeline.Junk
		i := slices.IndexFunc(groups, func(g copyGroup) bool {
			return g.junk == junk && g.skip == skip && bytes.Equal(g.head, head)
		})
		if i < 0 {
			groups = append(groups, copyGroup{head: head, skip: skip, junk: junk})
			i = len(groups) - 1
		}
		groups[i].local = append(groups[i].local, u)
		groups[i].filings = append(groups[i].filings, own.Filings)
	}
	return groups, squeezed
}

// bodies are the BlobStored events of one delivery: the streamed body with
// its head first, then a copy of it for each other head.
type bodies struct {
	body   *storedBody
	stored []*evlog.BlobStored
	skips  []bool // per stored: its head replaces the message's header block
}

func newBodies(body *storedBody, first *evlog.BlobStored) *bodies {
	return &bodies{body: body, stored: []*evlog.BlobStored{first}, skips: []bool{false}}
}

// forHead returns the BlobStored of the body with head on top (in place
// of the message's header block when skip), adding a copy of the first
// when there is none yet.
func (b *bodies) forHead(head []byte, skip bool) *evlog.BlobStored {
	for i, s := range b.stored {
		if b.skips[i] == skip && bytes.Equal(s.GetHead(), head) {
			return s
		}
	}
	first := b.stored[0]
	restSum, restSize, copySkip := b.body.sum, uint64(b.body.size), uint64(len(first.GetHead()))
	if skip {
		hl := uint64(b.body.headerLen)
		restSum, restSize, copySkip = b.body.restSum, restSize-hl, copySkip+hl
	}
	cp := evlog.HeadedCopy(head, restSum, restSize, first.GetHash(), copySkip)
	b.stored = append(b.stored, cp)
	b.skips = append(b.skips, skip)
	return cp
}
