// Package sortthread computes the answers of the IMAP SORT and THREAD
// commands (RFC 5256) over messages a caller describes: the sort keys
// ARRIVAL, CC, DATE, FROM, SIZE, SUBJECT and TO with REVERSE (RFC 5256
// §3), DISPLAYFROM and DISPLAYTO (RFC 5957), and the threading algorithms
// ORDEREDSUBJECT and REFERENCES (RFC 5256 §3, THREAD command), and REFS
// (draft-ietf-morg-inthread-01, as Dovecot serves it).
//
// It owns the rules of those RFCs: the base subject extraction (§2.1),
// the sent date (§2.2), the first address of an address header, the
// message identifiers a REFERENCES thread is built from, and string
// collation. Strings are compared by the i;unicode-casemap collation
// (RFC 5051), as I18NLEVEL=1 requires (RFC 5256 §1, RFC 5255 §4): each
// character mapped to its titlecase, the result in Unicode NFKD, compared
// octet by octet. Ties are broken by the order the caller gives, which is
// the mailbox's sequence order (RFC 5256 §3: equal messages are answered
// in the order they appear in the mailbox).
//
// A caller reads each message's header block once into a Summary
// (Summarize, which reads only the header fields the commands need) and
// may keep it: a Summary depends on the header only. Sort and the Thread
// functions then work on summaries, the internal date and the size.
//
// The package is pure: no I/O, no state, safe for concurrent use. It
// does not parse the commands (package wire does) nor evaluate their
// search criteria (package imap does).
package sortthread
