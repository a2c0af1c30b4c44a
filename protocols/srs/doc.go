// Package srs rewrites envelope senders with the Sender Rewriting Scheme,
// so that mail Surat forwards (Sieve redirect, user forwarding) passes SPF
// at its destination, and reverses the rewritten addresses when a bounce
// comes back to them.
//
// The format is the "guarded" scheme of Shevek's SRS paper, as libsrs2,
// Postfix's postsrsd and Pigeonhole's users know it:
//
//	SRS0=HHHH=TT=domain=local@srs-domain        (first forward)
//	SRS1=HHHH=host==HHHH=TT=domain=local@srs-domain  (forward of an SRS0)
//
// HHHH is the first 4 characters of the base64 HMAC-SHA1, under a secret
// key, of the rest of the address (lower-cased, so that a hop that changes
// the case of the local part does not break it; compared without regard to
// case for the same reason). TT is the day the address was made, days
// since the Unix epoch modulo 1024 in two base32 characters; an SRS0
// address older than MaxAge days is refused, which bounds how long a
// leaked address can be used to relay bounces. An SRS1 address carries no
// timestamp of its own: its hash guards the host it names, whose own SRS0
// hash and timestamp are checked there.
//
// Keys: the first signs, every one verifies, so a new key can be added
// (the cluster's SrsKeyAdded event; callers pass the newest first) while
// bounces to addresses made under the old one still come back.
//
// The package holds no state beyond the Rewriter's keys and does no I/O;
// it does not decide which addresses are ours or whether to relay: its
// callers (protocols/smtp) do.
package srs
