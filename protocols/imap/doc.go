// Package imap makes a node an IMAP server over the shared projections:
// a user's phone on one node and laptop on another see the same mailboxes,
// the same UIDs and UIDVALIDITY, and each other's changes at once.
//
// The wire protocol is go-imap v2's imapserver; this package is its backend.
// Reads come from the local Pebble projections (package mailbox). Every
// change (STORE, APPEND, COPY, MOVE, EXPUNGE, CREATE, RENAME, DELETE,
// SUBSCRIBE, and \Seen set by a FETCH of a body) is an event proposed
// through the cluster (protocols/propose), and the tagged OK is sent only
// once the event is committed by a quorum and applied on this node
// (docs/DESIGN.md invariant 1). A cluster failure (no leader, no quorum,
// timeout) answers NO [UNAVAILABLE]; apply's refusals map to
// [OVERQUOTA], [ALREADYEXISTS], [NONEXISTENT] or [TRYCREATE] (errors.go).
// It must not write to Pebble, and it keeps no mail state of its own beyond
// what sessions were told.
//
// # Capabilities
//
// Served (advertised after login unless noted):
//
//   - IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501), before and after login
//   - STARTTLS (RFC 9051 §6.2.1) on the plain listener, LOGINDISABLED before
//     TLS (RFC 3501 §6.2.3); implicit TLS on --imaps (RFC 8314 §3.2)
//   - AUTH=PLAIN (RFC 4616) and SASL-IR (RFC 4959), after TLS only
//   - LITERAL+ (RFC 7888; LITERAL- is implied), ENABLE (RFC 5161),
//     UTF8=ACCEPT (RFC 6855), IDLE (RFC 2177), UNSELECT (RFC 3691)
//   - NAMESPACE (RFC 2342), UIDPLUS (RFC 4315), MOVE (RFC 6851)
//   - ESEARCH (RFC 4731), SEARCHRES (RFC 5182)
//   - LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), CHILDREN (RFC 3348)
//   - SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154)
//   - STATUS=SIZE (RFC 8438), APPENDLIMIT=n (RFC 7889)
//   - BINARY FETCH items are answered (IMAP4rev2 includes them) but BINARY
//     (RFC 3516) is not advertised: APPEND stores literal8 data as given.
//
// Not served (go-imap v2 beta.8 has no server support, or we have none yet):
// CONDSTORE and QRESYNC (RFC 7162; the projections keep HIGHESTMODSEQ and a
// MODSEQ per message, ready for them), QUOTA (RFC 9208; the per-user quota
// is enforced, APPEND and COPY answer NO [OVERQUOTA], and it is set with
// `surat user quota`), ID (RFC 2971), COMPRESS, METADATA, SORT, THREAD,
// ACL, NOTIFY, UNAUTHENTICATE, BINARY (see above).
//
// # Unilateral updates
//
// Each node keeps one snapshot per selected mailbox (hub.go, snapshot.go):
// UIDs in order with modseq and flags. One subscription to the store's
// change feed per node brings snapshots forward: a goroutine per changing
// mailbox (not per session) reads only the messages each change names
// (a delivery to a 10,000-message mailbox costs each node one record
// read); renames, deletes, Resets and changes touching much of the mailbox
// read it whole, from one consistent store view. Mailboxes no session
// holds any more stay "warm" (kept current, up to Config.WarmMessages in
// all), so reopening one costs one record read. Each session keeps a pointer to
// the snapshot its client has been told about (view.go) and, at the end of
// every command and continuously during IDLE, diffs it against the current
// one into EXPUNGE (highest sequence number first; never during FETCH,
// STORE or SEARCH, RFC 9051 §7.4.1), FETCH FLAGS and EXISTS. UIDs only
// grow, so new messages only extend the sequence. go-imap's MailboxTracker
// is not used: its panics on an inconsistent expunge cannot happen with
// diffs of whole snapshots. Sessions also refresh right after their own
// writes and cheaply (one record read, then a short wait for the hub) at
// every poll, so a client always sees its own changes at once.
//
// Keywords reach a client in an untagged FLAGS before any FETCH FLAGS
// carries them (RFC 3501 §7.2.6, keywords.go). \Recent (IMAP4rev1 only,
// recent.go) comes from node-local claims: per mailbox, the highest UID a
// read-write session on this node was told of; another node, or this one
// after a restart, shows such messages recent again, as RFC 3501 §2.3.2
// allows when it cannot tell.
//
// # Reading fast
//
// FETCH takes flags and sizes from the snapshot, headers (ENVELOPE,
// BODY[HEADER...]) from a node-wide header cache, and bodies 128 at a time
// under one Pebble iterator; it sends its responses 64 KiB at a time rather
// than one write per message. SEARCH HEADER uses the header cache; SEARCH
// BODY/TEXT skips the MIME parse for a message whose raw bytes cannot hold
// the pattern (search.go says exactly when that is sound).
//
// # Limits and bad input
//
// go-imap fixes a 50 KiB command line (longer: BAD and the connection is
// closed), 4 KiB literals inside commands, 30 s to send a command and 30 s
// idle before login, 35 min after (RFC 9051 §5.4 asks at least 30);
// Config.IdleTimeout can lower these. go-imap refuses an oversized literal
// inside a command (LOGIN {999999999}) without a word and waits for more
// input, as the client waits for "+": the stall rule in limits.go breaks
// that wait after 5 s, the command gets NO and the session goes on; nothing
// of the literal is read. Deep nesting gets BAD (the parsers recurse only
// as deep as the 50 KiB line allows). APPEND literals above AppendLimit get
// NO [TOOBIG] before they are read; a non-synchronising literal (LITERAL+)
// is sent by the client regardless, and its bytes are then read as
// commands of that same session (go-imap behaviour; only the client's own
// session is affected). Unknown commands get BAD (before login, BYE).
// LOGIN and AUTHENTICATE go through the node's one login path
// (protocols/login, shared with SMTP AUTH and POP3): guessing is slowed,
// then locked out (NO [UNAVAILABLE] with the time left); the third failure
// on a connection gets BYE; a client locked for 10 s or more gets BYE
// instead of the greeting; a node behind the cluster answers
// NO [UNAVAILABLE].
// Connections per node and per IP are bounded. A user owns at most
// MaxMailboxes mailboxes (default 1,000) of at most MaxMailboxDepth
// hierarchy levels (default 16): CREATE and RENAME past them get NO [LIMIT]
// (RFC 5530 §3, mailboxlimits.go), and so does SUBSCRIBE past MaxMailboxes
// subscriptions (the names need not exist). The node stamps the limits
// into the event and apply enforces them, so a CREATE that only its
// missing parents take past the count, or two racing on two nodes, are
// refused alike. go-imap recovers a panic in a command per connection
// (logged, that connection closed); this package's own goroutines recover
// theirs.
//
// # Header cache
//
// ENVELOPE, header-only FETCH sections (BODY[HEADER], HEADER.FIELDS,
// RFC822.HEADER) and header SEARCH criteria read a message's header block
// only: from a node-local cache keyed by body hash (bodies are
// content-addressed and immutable, so it needs no invalidation), shared by
// every session and bounded by Config.HeaderCacheSize (64 MiB, least
// recently used out), or on a miss from the body's first chunks up to the
// blank line, a batch of messages under one store view (headercache.go).
//
// A logged-in session is bound to the user's credentials (revoke.go, over
// protocols/login's one revocation path): a password change or deletion
// through any node ends it with BYE.
//
// Every wait of a command (a login's verification, a proposal) takes the
// session's context, which ends when the client goes away (the connection
// is read ahead while a command waits, protocols/clientwatch), at LOGOUT,
// or when the server closes: no wait outlives its session, and shutdown
// does not wait out Config.ProposeTimeout.
//
// # Future work
//
// SEARCH scans the mailbox and parses bodies for text criteria:
// a text index belongs in mailbox/. Snapshot refreshes re-read the whole
// mailbox: a per-mailbox modseq index would let them read only changes.
package imap
