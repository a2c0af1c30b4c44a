// Package smtp serves Surat's SMTP listeners on top of emersion/go-smtp:
// inbound mail for local domains (MX, RFC 5321) and authenticated message
// submission (RFC 6409 on port 587 with STARTTLS per RFC 3207, and RFC 8314
// implicit TLS on port 465). It delivers to local mailboxes; mail for
// other domains, from authenticated submitters only, goes to a Relay (the
// outbound queue, protocols/outbound), whose events join the same proposal
// (nil Relay: such recipients get 451 4.3.0). Submission advertises DSN
// (RFC 3461) and hands NOTIFY/ORCPT/RET/ENVID to the Relay in Outbound.
//
// It owns the protocol rules and the mapping of internal failures to SMTP
// replies; it reads the mail projections through the narrow Directory
// interface and writes only by proposing events through a Proposer (the
// cluster). It never touches Pebble and never acknowledges before commit.
//
// # Delivery
//
// One accepted message is ONE proposal (docs/DESIGN.md invariant 4): the body's
// last BlobStored chunk plus one Delivered event naming every local
// recipient (aliases resolved, duplicates merged; one per group of
// recipients when the checks gave some fields of their own, below). The stored body is the
// message as received with "Return-Path:" (RFC 5321 §4.4) and a
// "Received:" trace field (RFC 5321 §4.4, with-protocols of RFC 3848)
// prepended. DATA (and BDAT) streams into the log as it is read: each full
// chunk (log.ChunkSize) is hashed and proposed at once as ChunkStaged
// under a random upload id, eight in flight (propose.SubmitAsync; reading
// waits for the oldest), each pinning the upload until the delivery may
// still be proposed; the last proposal's BlobStored carries the last chunk
// and names the upload, and apply assembles the body there. So a session
// holds about eight chunks (2 MiB), never the message. A message refused
// mid-stream (bare LF, too big, too many hops) or whose delivery fails
// abandons its upload (BlobsCollected.abandoned_uploads); a session that
// dies leaves it to the collector once its pin expires. The 250 after
// DATA is written only when the last proposal is committed by a quorum and
// applied on this node (docs/DESIGN.md invariant 1). Every wait (delivery,
// AUTH's verification, the read barrier before 550) takes the session's
// context, which ends with the connection and with the server.
//
// # Checks (protocols/pipeline)
//
// Connection checks (Config.ConnChecks, a DNSBL) judge an MX client when
// it greets, EHLO or HELO: their reply refuses it (554 5.7.1), a failure
// is 451 4.7.0 (connchecks.go). Message checks run as the message streams
// in and decide, at its end, the header fields added on top of it, where
// the copies go, or a refusal. When they decide differently for some
// recipients (a per-user spam verdict), the recipients are grouped by the
// copy they get: one Delivered per group, the streamed body for the
// first, and for each other set of fields a BlobStored copy_of it, all in
// the one proposal (copies.go); a Junk alone is a group, not a copy.
//
// # Full mailboxes and skipped recipients
//
// A local recipient whose mailbox is at its quota, or that MAIL's SIZE=
// would not fit, gets 452 4.2.2 at RCPT (quota.go), temporary as in the
// usual Postfix and Dovecot quota-status setup: the sender keeps the
// message for that recipient, the others get it. Apply checks again at commit and reports each recipient it skipped
// with its reason (over quota, user deleted meanwhile); the front end never
// reads the directory again to guess. SMTP cannot report recipients one by
// one after DATA (only LMTP can, RFC 2033 §4.2): when all were skipped the
// reply is 452 4.2.2 if one was over quota (the retry meets the RCPT
// check), else 550 5.1.1; otherwise it is 250, and the same commit queued
// a DSN for the skipped ones to the envelope sender (log.Delivered's
// return_path; the outbound queue worker sends it).
//
// # Replies to failures (errors.go)
//
// Every error handed to go-smtp is an *smtp.SMTPError: go-smtp turns any
// other error into a permanent 554, which would bounce mail because of a
// lost leader. A cluster that cannot commit (no leader, no quorum, shutting
// down, timeout) answers 451 4.3.0; a refusal for quota 552 5.2.2; anything
// unexpected a 4xx, so the sender retries rather than bounces.
//
// # SMTP smuggling
//
// go-smtp ends DATA only at <CRLF>.<CRLF> but passes bare LF and bare CR to
// the backend (and drops the dot of "<CRLF>.<LF>"). Other MTAs end or split
// messages at such sequences (CVE-2023-51764, CVE-2023-51765,
// CVE-2023-51766), so a message containing any bare LF or bare CR is refused
// with 550 5.6.0 (RFC 5321 §2.3.8: lines end in CRLF only) rather than
// normalised: refusing stores nothing ambiguous and relays nothing that a
// next hop could split. The same rule applies to BDAT (RFC 3030), for one
// stored form. One sequence cannot be seen: go-smtp's dot-unstuffing drops
// "." and a following CR at the start of a line ("<CRLF>.<CR>X" arrives as
// "<CRLF>X"), so such a message is stored whole, with CRLF lines only, as
// one message (the acceptance contract allows either outcome).
//
// # Limits
//
// Message size (RFC 1870: SIZE advertised, MAIL FROM SIZE= and the received
// data checked, 552 5.3.4; the rest of an oversize message is read and
// discarded, never buffered), recipients per message (452 4.5.3, RFC 5321
// §4.5.3.1.8), line length (a message line is bounded only by the message size and stored
// unchanged; MAIL/RCPT paths and HELO names by RFC 5321 §4.5.3.1: see
// guard.go),
// idle timeouts on every read and write (RFC 5321 §4.5.3.2), and concurrent
// sessions per node and per client IP (421 4.7.0 at connect, RFC 5321
// §3.8). go-smtp counts the size before the end-of-data line, so a message
// of exactly the limit is refused too: the limit is exclusive.
//
// Per-user send limits (submission, sendlimits.go): the remote recipients
// an authenticated user queued in the last hour (MaxSendPerHour, default
// 500; recipients, not messages, are counted) and the bytes of its mail
// still in the outbound queue (MaxQueuedBytesPerUser, default 256 MiB).
// Both are read from the replicated queue projection, so they hold across
// nodes and failovers. RCPT to a remote address gets 450 4.7.1 when the
// hour is used up, 452 4.5.3 when this recipient would pass it (RFC 5321
// §4.5.3.1.10: the client sends to the others and retries the rest), and
// 452 4.3.1 when the user's queued bytes are at the limit. The node stamps
// its limits into the Queued event, and apply enforces them (a message
// that would pass the bytes limit gets 452 4.3.1 after DATA), so
// concurrent sessions on several nodes cannot together pass them. Local
// recipients count towards neither limit: they exist to protect the
// cluster's outbound reputation and disk; local mail is bounded by
// quotas. Per-user overrides are not offered yet.
//
// Session bounds (sessionlimits.go), so that a client keeping inside the
// idle timeout cannot hold a slot for ever: a session's whole length
// (MaxSessionDuration, 30 minutes; then go-smtp's 421 4.4.2) and its MAIL
// commands (MaxTransactions, 1,000; then 421 4.7.0 and the connection
// closes, RFC 5321 §3.8).
//
// # Addressing and filtering outcomes
//
// A local recipient may be user+tag (RFC 5233; reaches user), an unknown
// local part of a domain with a catch-all, or one of our SRS addresses (a
// bounce to forwarded mail, verified and relayed to the original sender,
// on MX too); the address as given reaches the checks in
// pipeline.Envelope.RcptTo (addressing.go). What the checks decide per
// recipient (a Sieve script's keep, fileinto with flags and :create,
// discard, redirect, a replaced header block) is delivered in the same
// proposal: redirects are queued with the sender rewritten by SRS and a
// Delivered-To field, never twice for one user (sieve.go).
//
// # Authentication (submission)
//
// AUTH PLAIN (RFC 4616) and LOGIN are offered only under TLS (RFC 4954 §4,
// RFC 8314); before TLS, AUTH gets 538 5.7.11. MAIL before AUTH gets 530
// 5.7.0 (RFC 4954 §6); a wrong password 535 5.7.8; a MAIL FROM that is not
// the user's address or one of its aliases 553 5.7.1 (RFC 6409 §6.1).
// Logins go through the node's one login path (protocols/login, shared with
// IMAP and POP3): a node behind the cluster answers 454 4.7.0, a locked-out
// client 454 4.7.0 with the time left, and the third failure on a
// connection 421 4.7.0 and a close. Unknown local recipients count against
// the client too (address harvesting): 421 4.7.0 after 20 in a session,
// and for every RCPT while the client is locked. Each attempt is logged
// with the keys remote and user.
// A session is bound to the credentials AUTH verified (revoke.go): after a
// password change or deletion through any node, its next MAIL, RCPT or
// DATA gets 421 4.7.0 and the connection closes.
package smtp
