// Package spam is the built-in spam classifier's place in Surat's mail
// flow: the pipeline check that judges each message arriving on the MX
// port (Check), and the training that follows what users and operators
// say about messages (TrainingEvents, Train). The model and its math are
// protocols/spam/bayes; reading mbox files is protocols/spam/mbox.
//
// # The check
//
// Check runs last on the MX port (a pipeline.Follower): it tokenizes the
// message as it streams in, adds features from what the checks before it
// found (their facts: "auth:spf=pass", "auth:dmarc=pass", ...) and from the
// client's DNS (ptr:none, ptr:unconfirmed, helo:unresolved, ...: the
// sanity checks SpamAssassin calls RDNS_NONE and HELO_*), and classifies
// the message once per local recipient with the global model and that
// recipient's own. Each stored copy gets exactly one field
//
//	X-Spam-Status: Yes, score=9.73 required=9.00 tests=BAYES_99,RDNS_NONE
//
// (SpamAssassin's form: the score is the classifier's spam probability
// times ten, required the threshold times ten). Incoming X-Spam-Status
// and X-Spam-Flag fields are removed (Filter), so the one on a stored
// message is always ours. A spam verdict files the copy in Junk; when a
// check before it already junked the message (a DMARC quarantine, rspamd),
// the field says Yes whatever the classifier's score, so that the field
// and the mailbox never disagree. When the recipients' verdicts differ the
// fields go per recipient (pipeline.Outcome.Recipients), which the SMTP
// server stores as copies of their own.
//
// Submission is not classified: the sender is one of our users.
//
// # Learning
//
// A user's judgement trains that user's model, and only it: moving or
// copying a message into the user's \Junk mailbox (RFC 6154) trains it as
// spam, moving or copying it out of \Junk into any mailbox but \Trash
// trains it as ham (deleting junk says nothing about it being ham), and
// APPEND into \Junk trains spam. A message moved out of Junk is retrained
// (SpamTrained.retrain): it counted as spam there, either trained so by an
// earlier move or judged so by the classifier, and the counts it may have
// added as spam are taken back (apply never lets a count go below zero).
// The global model is trained only by the operator (surat spam train, the
// admin API), as in mox, whose junk filter is per account: one user's
// newsletter is another's spam, and a single user must not be able to
// teach every user's filter. The classifier leans on the global model
// while a user's own is small (bayes.Classifier).
//
// Training is a SpamTrained event carrying the message's token hashes,
// proposed through the cluster: every node's model is the same, whichever
// node the user was connected to, and a restarted node has it. The events
// are computed here, by the proposer, from the stored message; apply only
// counts (docs/DESIGN.md invariant 2). A command that touches many
// messages trains at most MaxTrainPerCommand of them, before its reply, in
// proposals of bounded size (Batches), and logs how many it left out.
//
// This package does not store anything itself and reads the store only
// through the small interfaces it declares.
package spam
