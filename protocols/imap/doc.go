// Package imap makes a node an IMAP server over the shared projections:
// a user's phone on one node and laptop on another see the same mailboxes,
// the same UIDs and UIDVALIDITY, and each other's changes at once.
//
// The command layer is this package's own (conn.go, dispatch.go, cmd_*.go)
// over the wire syntax of package wire and the message data of package
// imapmsg; go-imap v2's imap types are kept where they serve. Reads come
// from the local Pebble projections (package mailbox). Every
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
// Served (advertised after login unless noted; the lists are in
// cmd_capability.go):
//
//   - IMAP4rev2 (RFC 9051) and IMAP4rev1 (RFC 3501), before and after login
//   - STARTTLS (RFC 9051 §6.2.1) on the plain listener, LOGINDISABLED before
//     TLS (RFC 3501 §6.2.3); implicit TLS on --imaps (RFC 8314 §3.2)
//   - AUTH=PLAIN (RFC 4616) and SASL-IR (RFC 4959), after TLS only
//   - LITERAL+ (RFC 7888), ENABLE (RFC 5161), IDLE (RFC 2177) and ID (RFC
//     2971), before login too; UTF8=ACCEPT (RFC 6855), UNSELECT (RFC 3691),
//     UNAUTHENTICATE (RFC 8437)
//   - NAMESPACE (RFC 2342), UIDPLUS (RFC 4315), MOVE (RFC 6851)
//   - ESEARCH (RFC 4731), SEARCHRES (RFC 5182)
//   - LIST-EXTENDED (RFC 5258), LIST-STATUS (RFC 5819), CHILDREN (RFC 3348)
//   - SPECIAL-USE and CREATE-SPECIAL-USE (RFC 6154)
//   - ACL and RIGHTS=texk (RFC 4314), with the Other Users and the shared
//     (public, "Shared/") namespaces (RFC 2342 §5); METADATA and
//     METADATA-SERVER (RFC 5464)
//   - STATUS=SIZE (RFC 8438), APPENDLIMIT=n (RFC 7889)
//   - SORT and THREAD=ORDEREDSUBJECT, THREAD=REFERENCES (RFC 5256),
//     THREAD=REFS (draft-ietf-morg-inthread-01 as Dovecot serves it:
//     REFERENCES without gathering by subject, threads by their latest
//     message),
//     SORT=DISPLAY (RFC 5957), ESORT (RFC 5267): package sortthread holds
//     the RFCs' rules, sort.go reads the keys (header summaries, cached
//     apart from the header blocks in a quarter of Config.HeaderCacheSize)
//   - CONDSTORE and QRESYNC (RFC 7162; cmd_condstore.go, condstore.go):
//     MODSEQ per message and HIGHESTMODSEQ from the projections (sent on
//     every SELECT/EXAMINE, never NOMODSEQ), VANISHED (EARLIER) from the
//     mailbox's expunge history (mailbox/expunges.go; below its horizon,
//     every UID known to the client, or below UIDNEXT, that is gone), and
//     VANISHED for every expunge once QRESYNC is enabled
//   - QUOTA, QUOTA=RES-STORAGE, QUOTA=RES-MESSAGE (RFC 9208,
//     cmd_quota.go): one root per user, "User quota" as Dovecot names it,
//     from the per-user quota `surat user quota` sets and apply enforces
//     (APPEND and COPY answer NO [OVERQUOTA]); STORAGE in KiB rounded up,
//     MESSAGE (`--messages`) in messages. Only limited resources are
//     listed, as Dovecot does: a user without a quota gets "OK No quota"
//     and no QUOTAROOT. SETQUOTA is NO [NOPERM].
//   - COMPRESS=DEFLATE (RFC 4978, cmd_compress.go), once logged in: both
//     directions raw DEFLATE under the session's bufio reader and writer.
//     Responses are compressed 32 KiB at a time by compressors the
//     server's pool lends only while they work (BestSpeed), each chunk
//     ending with a sync flush; the client's
//     commands go through our own inflater (inflate.go), which hands a
//     command over as soon as its bytes are in, whatever zlib flush the
//     client used (mbsync's Z_PARTIAL_FLUSH too). An idle compressed
//     session keeps about 40 KiB more (the 32 KiB window).
//   - BINARY (RFC 3516): BINARY[] a literal8 only when it holds a NUL, an
//     unknown transfer encoding NO [UNKNOWN-CTE]; APPEND's literal8 data
//     stored with its binary parts in base64, as Dovecot does
//     (imapmsg.ConvertBinary), so BODY[] never holds a NUL
//   - MULTIAPPEND (RFC 3502): every message filed in one proposal, or none
//     (cmd_append.go); CATENATE (RFC 4469) with TEXT parts and URL parts
//     naming the user's own messages or their sections (catenate.go), and
//     URL-PARTIAL (RFC 5550 §5): ;PARTIAL= ranges in those URLs
//   - PREVIEW (RFC 8970), from the first text part (imapmsg)
//   - OBJECTID (RFC 8474): MAILBOXID, EMAILID derived from replicated
//     state (the mailbox's id and UIDVALIDITY, the body hash), so the same
//     on every node and across COPY, MOVE and RENAME; THREADID NIL, as
//     Dovecot answers (objectid.go)
//   - SAVEDATE (RFC 8514): stamped by APPEND, COPY and MOVE; a delivered
//     message's is its internal date. WITHIN (RFC 5032)
//   - NOTIFY (RFC 5465; cmd_notify.go, notify.go): SELECTED,
//     SELECTED-DELAYED, INBOXES (the personal namespace, as Dovecot takes
//     it), PERSONAL, SUBSCRIBED, SUBTREE, MAILBOXES; MessageNew (with
//     fetch attributes for the selected mailbox, never setting \Seen),
//     MessageExpunge, FlagChange, MailboxName, SubscriptionChange,
//     MailboxMetadataChange and ServerMetadataChange (the feed says which
//     mailbox's annotations changed; the session compares digests of those
//     the user sees to name them in the unsolicited METADATA).
//     AnnotationChange (RFC 5257, not served) gets NO [BADEVENT], as from
//     Dovecot 2.3. The hub offers every change to each
//     NOTIFY session's bounded queue (1,000 changes; past it
//     NOTIFICATIONOVERFLOW and the NOTIFY ends, §5.8); the session's own
//     goroutine writes the STATUS and LIST responses, between commands
//     (a goroutine then waits for the next command, as IDLE's waits for
//     DONE), during IDLE and before each tagged response. Shared and
//     public folders are watched under their Other Users/ and Shared/
//     names, and get STATUS only with the r right.
//   - CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4; searchctx.go):
//     RETURN (UPDATE) keeps a context per tag (10 per session, ended by a
//     change of mailbox) whose search program is evaluated on the
//     messages each view update names as new or changed; ADDTO and
//     REMOVEFROM go out with the view's updates (REMOVEFROM before
//     EXPUNGE, ADDTO after EXISTS), position 0 for SEARCH, sort positions
//     for SORT. Programs a change alone cannot be evaluated against
//     (message numbers, "*", "$", RECENT, WITHIN) and PARTIAL get
//     NOUPDATE. PARTIAL (RFC 5267 §4.4, RFC 9394's negative ranges),
//     CONTEXT (a hint) and CANCELUPDATE.
//
// # Command layer
//
// One goroutine serves a connection (Server.serveConn): the greeting, then
// one command at a time (serveCommand), until LOGOUT, a BYE or the
// connection's end. A panic ends only that session (logged, BYE, closed).
// The state machine is RFC 9051 §3's: not authenticated, authenticated,
// selected, logout.
//
// Every command is one line of the table in dispatch.go: its name (upper
// case, "UID FETCH" for a UID form), the states it is allowed in, and its
// handler, a func(s *session, c *command) error in cmd_<name>.go with its
// scripted test in cmd_<name>_test.go. A command not in the table is BAD
// (before login it also ends the session), one in the wrong state BAD.
// The handler convention:
//
//   - c.dec is positioned after the command name: the handler reads its
//     arguments with the wire.Decoder's primitives or grammars (ReadFetch,
//     ReadSearch...) through the end of the command (dec.End), before it
//     does anything; a synchronising literal gets its "+" from the
//     decoder's Continue hook, a refused one never does.
//   - It writes untagged responses through s.enc (a wire.Encoder over the
//     connection's buffered writer): nothing is sent until the tagged
//     response is flushed, or the buffer fills.
//   - It returns nil for the tagged OK, which the dispatcher writes after
//     the unilateral updates (view.go's report; no EXPUNGE after FETCH,
//     STORE or SEARCH: the table's noExpunge); c.code and c.text, when
//     set, are the OK's response code and text, and c.after runs once it
//     is sent (STARTTLS). Or it returns a *imap.Error (NO, BAD, or BYE,
//     which ends the session), a *wire.SyntaxError (BAD, or NO [TOOBIG];
//     Fatal ends the session), a *byeError (BYE and close); any other error
//     is logged and answered NO [SERVERBUG], unless it is the connection's
//     own, which ends the session without a word.
//   - The dispatcher discards what is left of a refused command (literals
//     included) and flushes.
//
// A BYE from elsewhere (revocation, Shutdown) is requested with
// requestBye: the session's read is woken by a deadline in the past, and
// the BYE is sent by the session's own goroutine once its command, if
// any, is answered; only that goroutine ever writes to the connection.
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
// The wire decoder bounds a command's text to 64 KiB (literals excluded), a
// literal inside a command to 64 KiB, a command with its literals to 1 MiB
// and list nesting to 32 levels (wire.DefaultLimits). A literal over its
// bound is refused before its continuation request (NO [TOOBIG]), so the
// client sends nothing of it and the session goes on; a non-synchronising
// one the client sends regardless is read and dropped (up to 64 MiB; past
// that the session ends, as it does for a longer line). Bad syntax,
// sequence number 0 and the like get BAD with a reason and the session
// goes on; an unknown command gets BAD (before login, BYE). A connection
// has 30 s to send a command once it started, 30 s of silence before
// login and 35 min after (RFC 9051 §5.4 asks at least 30), an APPEND
// literal 5 min; Config.IdleTimeout can lower these (limitedConn caps
// every read deadline). A client that sent a few bytes since the server
// last wrote and then nothing for 5 s while the server waits to read is
// cut off (the stall rule of limits.go, a safety net against a client and
// server waiting on each other). APPEND literals above AppendLimit, to a
// mailbox that does not exist, or over the user's quota get NO ([TOOBIG],
// [TRYCREATE], [OVERQUOTA]) before the continuation request.
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
// refused alike. A panic in a session is recovered (logged, that
// connection closed); this package's own goroutines recover theirs.
//
// Responses are written to a 4 KiB buffer per connection, flushed with
// the tagged response; while a FETCH of several messages runs, the
// connection's writes are also held and sent 64 KiB at a time (limits.go),
// so a FETCH of 10,000 messages costs tens of writes, not thousands.
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
// # Shared folders
//
// A mailbox its owner shared (SETACL, `surat acl set`; the ACL is
// replicated state, docs/DESIGN.md "Shared folders and ACL") is named
// "Other Users/<owner>/<name>" for the others (shared.go): NAMESPACE
// announces the prefix, LIST shows the mailboxes the user holds l on
// with "Other Users" and "Other Users/<owner>" as \Noselect levels, and
// the other commands resolve such names to the owner's mailbox, read by
// its id like any other, so IDLE and the unilateral updates on it need
// nothing more. Each command checks the rights RFC 4314 §4 asks
// (acl/commands.go): NO [NOPERM] without them, NO [NONEXISTENT] for a
// mailbox the user may neither list nor read; SELECT is READ-ONLY without
// a right to change anything; STORE ignores flags the user may not set
// or clear, as Dovecot does; APPEND and COPY into the mailbox keep only
// the flags the rights allow (Copied and Moved carry the user's rights,
// FlagsChanged too, so that apply keeps only those flags). A session
// re-reads its rights on the selected mailbox when the feed reports an
// ACLChanged for it (hub.go counts them, and wakes idling sessions), and
// hears nothing of it without r. CREATE below another user's mailbox
// needs k on it, DELETE of one needs x, RENAME x on it and k on the new
// parent of the same owner (apply checks them again, and a new mailbox
// gets its parent's ACL). A domain's public folders, one
// account's mailboxes, are the same shared mailboxes named "Shared/<name>"
// for the domain's other users (public.go). Annotations (cmd_metadata.go) need l and r, plus w for a
// mailbox's /shared/ entries; the server's /shared/ entries are the
// administrators' (users read them and set /private/ ones only).
//
// # Future work
//
// SEARCH scans the mailbox and parses bodies for text criteria:
// a text index belongs in mailbox/. Snapshot refreshes re-read the whole
// mailbox: a per-mailbox modseq index would let them read only changes.
package imap
