// Package mailbox owns Surat's mail projections: it applies committed events
// (package log) to a Pebble store and serves the read side that protocol
// sessions use: account and mailbox queries, message listings, bodies, a
// state digest and a change feed.
//
// It must not know about Raft, the network or sockets: the cluster layer
// hands it committed entries through Apply and moves snapshots through
// Checkpoint and Restore; protocols read through Store methods and never
// write to Pebble. Mail semantics live here and nowhere else.
//
// # Determinism and exactly-once apply
//
// Apply depends only on the proposal bytes and the prior state (docs/DESIGN.md,
// invariant 2): no clock, no randomness, no iteration over Go maps. Mailbox
// ids, UIDVALIDITY, UIDs and MODSEQs are assigned from counters kept in the
// store. Each proposal commits one Pebble batch holding both its changes and
// the applied marker (invariant 3), so a replay after a crash skips exactly
// what was already applied. Pebble writes use NoSync: the Raft log is the
// durable record and a lost tail is re-applied from it.
//
// A storage failure while applying (Pebble returning an I/O error) is fatal:
// the node must not go on with a projection that may differ from the log, so
// Apply panics with the error (the cluster layer turns it into an exit:
// status 75 for a full disk, 74 for any other I/O error); after a restart
// the entries past the marker are replayed. Nothing else stops the node:
// a proposal that does not decode, names an event kind this build does not
// know, or meets a broken invariant (counts that disagree, a record that
// does not decode, a reference to a missing blob, even a panic in apply's
// own code) fails the same way on every node, since apply depends only on
// the log. It is refused, all or nothing, with ERROR_CODE_INVALID or
// ERROR_CODE_INTERNAL and a message, logged at error level with its
// raft_index, and the next entry is applied. Stopping instead would stop
// every node at the same entry, again at each restart (a poison pill).
//
// # Idempotency keys
//
// Each proposal the cluster layer sends carries a 16-byte random key chosen
// by the proposing node, and the index it had seen committed when it first
// sent it (Proposal). A node whose forward lost the leader's answer cannot
// know whether the entry committed, so it sends the same bytes again. Apply
// records every keyed proposal's outcome (a refusal too) in the same batch
// as its changes; a proposal whose key is recorded is not applied again and
// gets the recorded outcome (UIDs included). Keys are remembered for
// IdempotencyWindow (10,000) log entries, counted in log indexes, not time,
// so every node forgets the same keys at the same entry: the first proposal
// of entry i deletes the keys recorded by entries at or below
// i - IdempotencyWindow. A copy first sent that long ago may have been
// applied and forgotten, so it is refused with ERROR_CODE_STALE_PROPOSAL (a
// temporary error) instead of being applied: as the recording entry comes
// after the index the proposer had seen committed, a key is never forgotten
// while a copy of it can still be applied. The keys are part of the store,
// so snapshots and restarts keep them, and part of the digest.
//
// # Semantics chosen where the events leave room
//
//   - MODSEQ (RFC 7162 §3.1): every mailbox starts at HIGHESTMODSEQ 1; each
//     event that changes a mailbox increments it once, and the messages it
//     changes carry the new value.
//   - FlagsChanged with unchanged_since (RFC 7162 §3.1.3): messages whose
//     modseq is greater are left alone and reported in
//     EventResult.source_uids (the MODIFIED set); the UIDs whose flags did
//     change are reported in EventResult.uids.
//   - Expunged reports the UIDs it removed in EventResult.source_uids.
//   - Expunge history (RFC 7162 §3.2.5, QRESYNC; expunges.go): Expunged,
//     a MOVE's source and a rename of INBOX record the UIDs they remove
//     under the mailbox's new modseq. MailboxRecord.expunge_horizon is the
//     modseq above which the history is whole: 1 for a new mailbox, the
//     modseq before its first recorded expunge for a mailbox from before
//     the history (0 until then). Past MaxExpungeHistoryRanges ranges
//     (10,000) in a mailbox, the oldest records go down to three quarters
//     of that and the horizon rises to the newest modseq dropped; a
//     client resyncing from below the horizon is answered from the
//     mailbox's current UIDs instead (Store.Vanished says complete=false).
//   - Flags: system flags are canonicalised (\Seen \Answered \Flagged
//     \Deleted \Draft), \Recent is ignored (RFC 9051 §2.3.2 makes it
//     server-managed and IMAP4rev2 dropped it), other backslash flags are
//     invalid, keywords must be atoms (RFC 9051 §9, flag-keyword) and are
//     deduplicated case-insensitively keeping the first spelling; stored
//     flags are sorted bytewise.
//   - Mailbox names: "INBOX" is case-insensitive, and so is the first
//     component of a name below it ("inbox/x" is stored as "INBOX/x")
//     (RFC 9051 §5.1). Creating or renaming to a name whose superiors do not
//     exist creates them (RFC 9051 §6.3.4, §6.3.6).
//   - Renaming INBOX (RFC 9051 §6.3.6) creates a new mailbox with the new
//     name, a new id and a new UIDVALIDITY (from the hint); the messages move
//     there keeping their UIDs and flags, with a new modseq. INBOX keeps its
//     id, UIDVALIDITY and UIDNEXT (so its UIDs are never reused) and is left
//     empty; mailboxes below INBOX are not renamed.
//   - Renames and deletes leave subscriptions alone (RFC 9051 §6.3.7: a
//     subscription may name a mailbox that does not exist).
//   - Delivered to a named mailbox that no longer exists (or a name that
//     is not valid) files the message into the recipient's INBOX, so mail
//     is never dropped for a stale filing rule (RFC 5228 §4.1 lets
//     fileinto save to an implementation-defined mailbox); with
//     Recipient.create the mailbox is made first (RFC 5490 §3.2, CREATE's
//     rules and the event's max_mailboxes/max_name_depth; past them,
//     INBOX). A user may appear several times in one Delivered (Sieve's
//     keep and fileinto): one copy each, each with the event's flags and
//     its own (a recipient flag that is not valid is left out), each
//     charged to the quota, so the copies past it are the skipped ones
//     (the last). A recipient whose
//     user no longer exists, or whose quota the body would exceed, is
//     reported in EventResult.skipped_recipients with its reason
//     (NO_SUCH_USER, OVER_QUOTA), and by address in EventResult.skipped
//     for older readers. When some recipients were delivered and the event
//     names a return_path, the skipped ones become one outbound queue entry
//     marked local_failure, with id (raft index u64, proposal u32, event
//     u32) and per recipient the reply and RFC 3463 status; the queue
//     worker bounces them with a DSN to the sender. When none was
//     delivered no entry is made: the front end answers the client with an
//     error instead, so the sender keeps the message.
//   - Users may be created in any domain; DomainRemoved does not delete the
//     domain's users (the administrator does that explicitly). A
//     DomainRemoved stamped refuse_if_used (every one the admin API
//     proposes) is refused with DOMAIN_IN_USE while a user or an alias of
//     the domain exists; it deletes the domain's DKIM keys with it.
//   - Domains and DKIM keys: a DomainAdded carrying keys for a present
//     domain is refused (DOMAIN_EXISTS) so that two proposers racing to
//     add it cannot both believe their keys were kept; one without keys
//     (from before keys) succeeds and changes nothing, as it always did.
//     Keys are validated (PKCS #8 of the named algorithm, RSA 1024 to 4096
//     bits, selector a lower-case DNS label, at most 16 per domain).
//     DomainsChanged changes carry the domain in Address.
//   - The outbound queue: Queued references its body (refs++) and makes
//     the entry due at queued_unix; AttemptFailed, Sent and Bounced name
//     recipients of the entry (a name it does not have is invalid; one
//     already final is left alone, so a duplicate report after a leader
//     change changes nothing). When every recipient is Sent or Bounced,
//     or on QueueDeleted, the entry and its due index leave the store and
//     the body's reference is dropped. An outcome for an id that is not
//     queued (finished or deleted meanwhile) is refused with
//     NO_SUCH_QUEUE_ENTRY, so a DSN proposed with it is not delivered twice.
//   - Per-user limits (sendlimits.go, the end of apply_mailboxes.go) are
//     stamped into the events by the proposer from its configuration
//     (0: none), never read from a node's flags, so every node refuses
//     alike and old entries apply as before. Queued counts, for a
//     submitter that is an address (not a DSN's empty one), its recipients
//     in five-minute buckets of queued_unix and its bytes while queued;
//     it is refused with SEND_RATE_LIMIT when the recipients of the hour
//     up to queued_unix (the last twelve buckets) would pass
//     max_recipients_per_hour, or QUEUED_BYTES_LIMIT when the queued bytes
//     would pass max_queued_bytes. A submitter's buckets older than that
//     hour are pruned at its next Queued; its bytes leave with the entry,
//     stopping at 0 for entries queued before the count existed.
//     MailboxCreated and MailboxRenamed are refused with MAILBOX_LIMIT when
//     a name they produce has more than max_name_depth levels, or when the
//     user ends with more than max_mailboxes mailboxes (parents created
//     along included) and more than before the event; Subscribed, when a
//     new subscription would pass max_subscriptions (names need not
//     exist, so the mailbox count does not bound them).
//   - BlobStored for a chunk already stored changes nothing but the blob's
//     touched_index, so a re-upload keeps the body safe from a collection
//     proposed concurrently. The last chunk's arrival checks the SHA-256 of
//     the assembled body. A chunk's pinned_until_unix pins the body until
//     then; BlobsCollected (carrying the collector's now_unix) keeps a
//     pinned body, and a reference or BlobUnpinned ends the pin
//     (apply_pins.go).
//
// The ban list (BanAdded, BanRemoved, BansPruned) names client prefixes in
// canonical form: IPv4 prefixes, and IPv6 prefixes of at most 64 bits (one
// IPv6 client holds a /64, so BanPrefix widens an address to it); apply
// refuses any other spelling so that every node keys a ban the same.
// Adding a banned prefix again replaces its reason and times. Expiry is
// judged at read time against the proposer-stamped expires_unix (Ban.Active),
// so an expired ban stops counting on every node at once; BansPruned,
// proposed by the leader with its clock, deletes the expired records so the
// list stays bounded. UserRecord.credential_index is the log index of the
// event that last set the user's credentials (UserCreated, PasswordChanged):
// sessions bound to another value, or to another hash, are revoked.
//
// Greylisting (apply_greylist.go). GreylistRecorded stores each triple
// (16 opaque bytes the proposer hashed) with its first sighting, the
// proposer-stamped expiry and whether a retry passed; a triple still
// known (its expiry after seen_unix) keeps the earlier first sighting, the
// later expiry and its passed mark, so that records from two nodes merge
// whatever their commit order; an expired one is recorded anew. Expiry is
// judged at read time (Greylisted); GreylistPruned deletes what expired.
//
// Reports (apply_reports.go). DmarcRecorded and TLSResult aggregate into
// one row per distinct result of a (policy domain, UTC day), counted; a
// result whose policy names no rua is not kept (RFC 7489 §7.2, RFC 8460
// §3), and neither is one out of bounds: recording never refuses, since
// it travels in the proposal of the delivery it describes. A day holds at
// most MaxDMARCRowsPerDay (MaxTLSRowsPerDay) rows; further distinct
// results count in its overflow. DmarcReportsSent and TLSReportsSent,
// proposed by the leader with the Queued report, delete the day's rows and
// mark it sent; they are refused with NO_SUCH_REPORT for a day not
// recorded, REPORT_SENT for one already sent (so a report is queued once
// whatever the leader changes) and REPORT_CHANGED when the day's rows or
// count differ from what the report covers (a result committed since it
// was read: the leader builds it again). A result for a sent day counts
// in its late counter. ReportsPruned deletes every day before before_day,
// sent or not. DmarcReportReceived keeps a summary per received report,
// replacing one with the same org_name and report_id, and at most
// MaxReceivedReports per domain (the oldest goes); its sources are cut to
// MaxReceivedSources, the rest counted in more_sources.
//
// The spam classifier's models (apply_spam.go; protocols/spam/bayes owns
// tokens and arithmetic). SpamTrained adds one to the class count of each
// of the message's tokens (saturating at the u32 maximum) and to the
// class's total, and keeps each token's latest trained_unix (clamped to
// u32) as its last-seen time; with retrain it first takes one from the
// other class's counts and total, stopping at zero (a prune may have
// dropped the counts, or the message was never trained the other way).
// Tokens must be sorted and distinct, at most MaxSpamTokens; a model is
// the global one (user "") or an existing user's, deleted with the user.
// SpamPruned drops the tokens whose spam+ham is at most max_count and
// whose last-seen time is before seen_before_unix; the totals stay (they
// count messages, not tokens).
//
// Sieve (apply_sieve.go). Scripts are kept per owner (a user, "@domain"
// for a domain's administrators' script, "@" for the global one) with at
// most one active; apply never parses them, and refuses past the
// proposer-stamped max_scripts and max_bytes with SCRIPT_QUOTA. Deleting
// the active script is refused (SCRIPT_ACTIVE, RFC 5804 §2.10); a rename
// keeps it active. VacationReplied queues its reply only when no record
// of (user, sender, handle) runs at replied_unix; otherwise, or when the
// user is gone, the event is skipped (its EventResult names the sender in
// skipped_recipients with ALREADY_REPLIED or NO_SUCH_USER), never refused,
// since it travels with the delivery. DuplicateRecorded merges like a
// greylisting triple (the later expiry wins). Both expire at read time;
// SievePruned deletes what expired. ForwardingSet replaces (empty: clears)
// the user's forwarding; SrsKeyAdded keeps at most MaxSrsKeys secrets,
// dropping the oldest. UserDeleted deletes the user's scripts and
// records, DomainRemoved the "@domain" scripts. A domain's catch_all must
// name an existing user when set; a user deleted later is ignored by
// ResolveRecipient. Its public_folders must name an existing user of the
// domain itself; one deleted later is ignored by PublicFolders likewise.
//
// Shared folders and annotations (apply_acl.go, apply_metadata.go).
// AclSet edits one identifier's rights on a mailbox with
// protocols/imap/acl's Modify (so "+" and "-" changes compose in log
// order); an identifier left with no rights leaves the ACL. The mailbox's
// owner must match the event (NO_SUCH_MAILBOX), a user named must exist
// (NO_SUCH_USER), a stamped actor who is not the owner must hold the a
// right when the event applies (FORBIDDEN), and an ACL holds at most
// MaxACLEntries identifiers (ACL_LIMIT). The owner holds every right
// whatever the ACL says (acl.Evaluate), so an entry naming the owner is
// accepted and not kept. Renames keep a mailbox's ACL (it
// is keyed by id); deleting the mailbox drops it with the mailbox's
// annotations; deleting a user drops the entries naming them and their
// private annotations. A Delivered recipient with shared_owner files
// into that user's mailbox when it exists, the recipient holds p on it
// and the owner has room (charged to the owner, with only the flags the
// recipient's rights allow); otherwise into the recipient's INBOX,
// never creating a mailbox. MetadataSet sets (or, without a value,
// deletes) one entry, its name lower-cased; a scope (a mailbox's shared
// entries, or one user's private entries on it; id 0 for the server)
// holds at most MaxMetadataEntries entries and MaxMetadataBytes bytes
// (METADATA_TOOMANY), a value at most MaxMetadataValueBytes
// (METADATA_MAXSIZE). SAVEDATE (RFC 8514): Appended, Copied and Moved
// carry the proposer's saved_unix into MessageRecord.saved_unix (a copy
// unstamped keeps its original's); deliveries leave it 0, and SaveDate
// reads the internal date then.
//
// # Key layout
//
// Every key starts with a four-byte prefix naming its kind. Integers are
// big-endian so that byte order is numeric order. Addresses and mailbox
// names never contain NUL (apply rejects them), which makes NUL a safe
// separator. Records are encoded with log.MarshalRecord (deterministic
// protobuf).
//
//	key                                         value
//	"app/"                                      applied marker: index u64, done u32, total u32, prev u64 (local, not in Digest)
//	"ctr/" counter-name                         counter: "mailbox-id" u64 (last id), "uidvalidity" u32 (last value),
//	                                            "keys-forgotten" u64 (idempotency keys of entries up to it are forgotten)
//	"dom/" domain                               log.DomainRecord: a local domain and its settings (empty for one added before records)
//	"dkk/" domain 0x00 selector                 log.DkimKey: one of the domain's DKIM signing keys (its SHA-256 goes into Digest, not the key)
//	"usr/" address                              log.UserRecord
//	"als/" alias                                target address (a user)
//	"alt/" target 0x00 alias                    empty: aliases by target, for Aliases and UserDeleted
//	"mbn/" address 0x00 name                    mailbox id u64: mailboxes by owner and name (name order)
//	"mbx/" id u64                               log.MailboxRecord
//	"msg/" mailbox-id u64 uid u32               log.MessageRecord (UID order within a mailbox)
//	"exh/" mailbox-id u64 modseq u64            UID ranges (first u32, last u32 each) expunged at that modseq: the expunge history (expunges.go)
//	"sub/" address 0x00 name                    empty: a subscription (RFC 9051 §6.3.7)
//	"blb/" sha256 (32 bytes)                    log.BlobRecord
//	"chk/" sha256 (32 bytes) chunk u32          body chunk bytes
//	"upl/" upload-id (16 bytes)                 log.UploadRecord: a body being staged chunk by chunk (ChunkStaged)
//	"stg/" upload-id (16 bytes) chunk u32       staged chunk bytes, moved under chk/ by the BlobStored naming the upload
//	"que/" queue-id (16 bytes)                  log.QueueRecord: an outbound queue entry
//	"qdu/" next-attempt-unix u64 queue-id       empty: entries by next attempt time, for the worker's due scan
//	"ban/" family u8 bits u8 address            log.BanRecord: a banned client prefix (family 4 or 6; address 4 or 16 bytes, host bits zero)
//	"bex/" expires-unix u64 family bits address empty: bans that expire, by expiry time, for BansPruned
//	"snt/" submitter 0x00 bucket u64            u64: remote recipients the submitter queued in that five-minute bucket of queued_unix
//	"sqb/" submitter                            u64: bytes of the submitter's entries still queued (absent: 0)
//	"dmd/" day u32 domain                       log.DmarcDayRecord: DMARC results of one (policy domain, UTC day since the epoch)
//	"dmr/" day u32 domain 0x00 row-digest (16)  log.DmarcRowRecord: one aggregate report record and its count
//	"tld/" day u32 domain                       log.TLSDayRecord: TLS-RPT results of one (policy domain, UTC day)
//	"tlr/" day u32 domain 0x00 row-digest (16)  log.TLSRowRecord: one policy (and failure) and its session count
//	"dmi/" domain 0x00 received-unix u64 digest log.DmarcReportReceived: a received aggregate report's summary (digest: 16 bytes of org_name, report_id)
//	"spt/" user 0x00 token u64                  spam u32, ham u32, last-seen unix u32: one token of a classifier model (user "": the global model)
//	"spm/" user                                 spam u64, ham u64, tokens u64: a model's trained messages by class and its distinct tokens
//	"gry/" triple (16 bytes)                    first-seen-unix u64, expires-unix u64, passed u8: a greylisting triple (GreylistRecorded)
//	"gre/" expires-unix u64 triple (16 bytes)   empty: greylisting triples by expiry time, for GreylistPruned
//	"svs/" owner 0x00 name                      put-unix u64, then the source: a Sieve script (owner: a user, "@domain" or "@")
//	"sva/" owner                                the name of the owner's active Sieve script
//	"svv/" user 0x00 sender 0x00 handle         replied-unix u64, expires-unix u64: a vacation reply sent (VacationReplied)
//	"svd/" user 0x00 id                         seen-unix u64, expires-unix u64: an id the Sieve duplicate test tracks
//	"svx/" expires-unix u64 kind u8 rest        empty: vacation ('v', rest of an svv/ key) and duplicate ('d', svd/) records by expiry, for SievePruned
//	"fwd/" user                                 log.ForwardingSet: the user's forwarding
//	"srs/" added-unix u64 key-digest (8 bytes)  an SRS secret (digest: of the key; its SHA-256 goes into Digest, not the key)
//	"acl/" mailbox-id u64 identifier            rights in acl.Rights' canonical form ("lrs"): one identifier of a mailbox's ACL (RFC 4314)
//	"acu/" identifier 0x00 mailbox-id u64       empty: ACL entries by identifier, for SharedWith and UserDeleted
//	"mds/" mailbox-id u64 entry                 value: a /shared/ annotation of a mailbox (id 0: of the server) (RFC 5464)
//	"mdp/" user 0x00 mailbox-id u64 entry       value: user's /private/ annotation of a mailbox (id 0: user's server entry)
//	"idk/" proposal-key (16 bytes)              entry index u64, then the proposal's encoded log.Outcome (idempotency keys)
//	"idi/" entry-index u64 proposal-key         empty: remembered keys by the entry that applied them, for pruning
//
// A report row's digest is the first 16 bytes of the SHA-256 of its
// fields in a canonical encoding of apply's own (apply_reports.go), not of
// its protobuf encoding, so that the key never depends on a library.
//
// A client's ban is found by seeking, for each prefix length from 0 up,
// the client's address masked to it; a seek that lands on a longer length
// skips the lengths no ban uses, so a look-up costs a few seeks however
// long the list (ban/ keys sort by family, then length).
//
// The applied marker records the entry index, how many of that entry's
// proposals are done, how many it has, and the last index finished before
// it; AppliedIndex is index when done == total, prev otherwise.
//
// # Reads, snapshots and the change feed
//
// Reads run concurrently with Apply; a read-write lock guards the Pebble
// handle so that Restore can swap the store under them. After each committed
// proposal Apply publishes Changes to subscribers without ever blocking
// (docs/DESIGN.md, invariant 9); a subscriber that falls behind gets a Reset
// instead of the changes it could not hold. Checkpoint and Restore move the
// whole store as a tar of a Pebble checkpoint (invariant 6); the directory
// swap is atomic, and Open finishes or discards a swap a crash interrupted.
//
// The spam models are also mirrored in memory (spam_mirror.go), because a
// message's hundreds of tokens cost a Pebble point read each: an exact
// copy of each model's "spt/" records in a Go map, loaded on a model's
// first use (by SpamCounts or by apply) from the committed database under
// the mirror's write lock. Apply reads tokens from the proposal's own
// writes, then the mirror, and writes Pebble as before; it hands the
// mirror the absolute values it wrote only after the batch committed, so
// a refused proposal leaves it alone and a model loaded meanwhile (which
// already has them) is unharmed. UserDeleted drops the user's model, and
// Restore clears the mirror. Pebble stays the only source of truth: the
// mirror is in no snapshot and not in Digest, and apply's writes are the
// same without it. It holds at most spamMirrorMaxEntries tokens (about 35
// bytes each): loading a model past that evicts others, least recently
// used first, and a model that does not fit alone is read from Pebble.
package mailbox
