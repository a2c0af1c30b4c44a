// Package pop3 serves POP3 (RFC 1939) from the same projections as IMAP: a
// session reads the user's INBOX from the node's store (package mailbox) and
// proposes its changes (\Seen, expunges) through the cluster, so a message
// read or deleted over POP3 is read or gone for IMAP on every node.
//
// It owns the POP3 wire protocol and session state machine; it must not
// write to the store (every change is an event, proposed through
// protocols/propose), hold mail state beyond one session, or know about Raft.
//
// # Why not a library
//
// The Go POP3 server libraries we know of are small, unmaintained, and lack
// STLS or SASL; none of them streams bodies from a store without loading
// them whole. POP3 is small: a clear, fully tested implementation here
// (parser, session, dot-stuffing writer, each with its RFC cited at the line)
// costs less than adapting and vouching for one.
//
// # What is served
//
//   - RFC 1939 in full except APOP (it needs the cleartext password on the
//     server; Surat keeps only argon2id hashes): USER, PASS, STAT, LIST,
//     RETR, DELE, NOOP, RSET, QUIT, TOP, UIDL.
//   - CAPA (RFC 2449) listing what is actually served: TOP, UIDL, USER,
//     RESP-CODES, AUTH-RESP-CODE (RFC 3206), PIPELINING, IMPLEMENTATION; STLS
//     before TLS; SASL PLAIN once the connection is under TLS.
//   - STLS (RFC 2595); USER, PASS and AUTH are refused before TLS with
//     -ERR [AUTH] (RFC 2595 §4 lets a server require TLS first). Implicit
//     TLS (RFC 8314 §3.3) when Config.ImplicitTLS is set (--pop3s).
//   - AUTH PLAIN (RFC 5034, RFC 4616), with or without an initial response.
//
// # The maildrop
//
// At login the session reads the user's INBOX once (one Messages scan) and
// keeps, per message, its UID, size, body hash and whether it is \Seen: the
// maildrop as of login (RFC 1939 §4). Messages delivered later appear in the
// next session. Message sizes are the stored sizes: SMTP stores bodies with
// CRLF line endings (it refuses bare LF), so they are the octets RETR sends
// before dot-stuffing, as RFC 1939 §5 LIST asks. RETR always sends CRLF: a
// bare LF (possible in an IMAP APPEND) goes out as CRLF, and such a message
// is then a little longer on the wire than listed.
//
// UIDL values (RFC 1939 §7) are "<uidvalidity>.<uid>": UIDs and UIDVALIDITY
// are assigned by apply in log order, so the value is the same on every node
// and is never reused for another message (INBOX keeps its UIDVALIDITY even
// when renamed; mailbox/doc.go).
//
// There is no exclusive maildrop lock (RFC 1939 §8 [IN-USE]): a cluster-wide
// lock would cost a Raft round trip per login and could outlive a crashed
// node. Concurrent sessions (POP3 or IMAP, on any node) are safe instead:
// RETR of a message expunged meanwhile answers -ERR (the session checks the
// message still exists before streaming it; a body collected while being
// sent ends the connection rather than sending a truncated message as
// complete), and DELE+QUIT of a message already gone succeeds (apply skips
// UIDs that no longer exist).
//
// # Changes: ack after commit
//
// DELE only marks. At QUIT in the TRANSACTION state (RFC 1939 §6, the UPDATE
// state) the session proposes ONE batch: a FlagsChanged ADD \Seen for the
// messages retrieved and not yet flagged, then one Expunged for the messages
// marked deleted. +OK is sent only after propose.Submit returns success, that
// is after the batch is committed by a quorum and applied on this node
// (docs/DESIGN.md invariant 1). Any cluster failure answers -ERR [SYS/TEMP]
// (RFC 3206 §4) and nothing is claimed deleted. A session that ends any other
// way (dropped connection, timeout, shutdown) never enters UPDATE and deletes
// nothing (RFC 1939 §6).
//
// \Seen (RETR marks a message read unless Config.KeepUnseen; TOP does not):
// flag changes are collected, not proposed per RETR, so RETR of 1,000
// messages costs no Raft round trip in the hot path. They are proposed with
// the QUIT batch; a long session also flushes them when SeenFlushInterval
// has passed or SeenFlushCount are pending (between commands, one proposal).
// If the connection drops, the pending \Seen changes are still proposed once,
// best effort (the client did receive those messages; only deletions are
// bound to QUIT). RSET undoes deletion marks only: a retrieved message stays
// read.
//
// # Bad input
//
// Command lines are limited to 255 octets including CRLF (RFC 2449 §4); a
// longer line gets -ERR and is discarded. SASL responses may be longer
// (RFC 5034 §4) up to MaxSASLLine. Unknown commands and commands in the wrong
// state get -ERR; after MaxBadCommands of them the session is closed. The
// AUTHORIZATION state times out after AuthTimeout, TRANSACTION after
// IdleTimeout (RFC 1939 §3: at least 10 minutes). USER/PASS and AUTH go
// through the node's one login path (protocols/login, shared with SMTP and
// IMAP): guessing is slowed, then locked out ([SYS/TEMP] with the time
// left), the third failure on a connection closes it, and a client locked
// for 10 s or more gets -ERR instead of the greeting. Each connection recovers
// from panics, so no input brings the server down.
//
// # Contexts
//
// Each session has its own context, a child of the server's: it ends when
// the session does, when the client goes away while a login or a \Seen
// flush waits (the connection is read ahead meanwhile,
// protocols/clientwatch, shared with IMAP), and at the start of Shutdown.
// A QUIT's UPDATE is bounded by the server's context instead: QUIT alone
// asks for the deletions (RFC 1939 §6), so a client that leaves right after
// sending it still has them committed; only Close, Shutdown past its
// deadline or ProposeTimeout cut it, unanswered.
//
// With Config.Feed, a session is bound to the user's credentials at login
// (revoke.go): a password change or deletion through any node closes it,
// after the command in progress, so that an UPDATE is never cut halfway.
package pop3
