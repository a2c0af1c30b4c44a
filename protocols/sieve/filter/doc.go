// Package filter runs the recipients' Sieve scripts (RFC 5228) on the node
// that accepts a message, before the delivery is proposed, so that what the
// scripts decide is part of the one delivery entry: apply stays
// deterministic and a 250 still means committed (docs/DESIGN.md, "Sieve").
//
// Check is a pipeline.Check whose Run is a pipeline.Follower: it comes last
// on the MX and submission ports, after the spam classifier, so a script
// sees the header fields every earlier check prepends (X-Spam-Status,
// Authentication-Results) and spamtest (RFC 5235) reads the classifier's
// score for that recipient.
//
// # What runs
//
// For each local recipient the filter runs, in order, the global
// administrator's active script (owner "@"), the recipient's domain's
// ("@example.com"), the user's forwarding (`surat user forward`) and the
// user's own active script, as Pigeonhole runs sieve_before scripts before
// the personal one: each script's actions add up, and the sequence goes on
// only while the implicit keep (RFC 5228 §2.10.2) is still in effect, so an
// administrator's script that files or discards a message ends it. The
// forwarding acts as `redirect` (keep: `redirect :copy`, RFC 3894). This
// is sieve.ExecuteSequence's rule, applied here one script at a time so
// that a script that fails loses only its own actions, the forwarding
// sits between the administrators' scripts and the user's, and each
// script sees the header block editheader left (RFC 5293).
//
// A script that does not compile, fails at run time or passes a limit
// (steps, redirects, the check's deadline) is taken as if it had done
// nothing: its own actions are dropped and the implicit keep holds (INBOX,
// or Junk when a check before decided so), with a warning and the
// surat_sieve_runs_total{outcome} counter. A message is never lost to a
// script. Only a failure to read the stored scripts is a temporary failure
// (the client sends again).
//
// # What it produces
//
// Per recipient, a pipeline.RecipientOutcome: keep and fileinto become
// Filings (one copy each, with their flags, RFC 5232, and :create, RFC
// 5490); redirect and forwarding become Redirects (the SMTP server queues
// them with an SRS sender); discard, reject and a redirect without keep
// become Discard; editheader's header block (RFC 5293) becomes Header.
// A recipient whose scripts only kept the message gets no outcome at all.
//
// And events, proposed in the same entry as the delivery:
//   - a vacation reply (RFC 5230), when the sender may get one (RFC 3834 §2,
//     RFC 5230 §4.5) and none is recorded as running for (user, handle,
//     sender): the reply's body (BlobStored, one chunk) then
//     VacationReplied carrying its Queued (null reverse-path, RFC 3834
//     §3.3). Apply queues it only when no record is running, so two nodes or
//     a retry after a failover still send one reply per period;
//   - DuplicateRecorded for the duplicate test's ids (RFC 7352);
//   - a rejection (RFC 5429): when every local recipient rejects and there
//     is no remote one, the message is refused with 550 5.7.1 and the
//     reason at the end of DATA (§2.1.1, nothing stored, nothing recorded);
//     otherwise the rejecting recipients get no copy and the sender gets an
//     MDN (§2.1.2, RFC 8098), queued like the vacation reply; none to the
//     null sender.
//
// # Reading the message
//
// The run captures, while the message streams, the header block as it is
// stored (after the earlier checks' Filters; at most MaxHeaderBytes) and,
// only when some script of the message may test the body (RFC 5173), the
// body up to the interpreter's MaxBodyBytes. Compiled scripts are kept in a
// bounded cache keyed by the SHA-256 of their source.
//
// The package reads stored state only through the small interfaces it
// declares (Scripts, Forwarding, Records, Mailboxes), implemented over a
// node's mailbox.Store by StoreState; the reply messages are built by Replies
// (protocols/sieve/vacation and protocols/sieve/mdn). It proposes nothing
// itself and holds no global state.
package filter
