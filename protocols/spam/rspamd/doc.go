// Package rspamd is Surat's client of rspamd's scanning protocol and the
// pipeline check that asks rspamd about every message arriving on the MX
// port (--rspamd URL).
//
// The client posts the message to the normal worker's /checkv2 (rspamd's
// "protocol v2", https://rspamd.com/doc/developers/protocol.html) with the
// envelope in request headers: From (MAIL FROM), one Rcpt per recipient,
// IP, Helo, Hostname (the client's forward-confirmed PTR name, or
// "unknown", when the node has a resolver), User (the authenticated
// user), MTA-Name (--hostname). The body is sent with chunked transfer
// encoding while the message arrives, through the bounded feed of
// protocols/spam/internal/feed, so the message is never held whole. The
// JSON reply's action, score, required_score, symbols and
// messages.smtp_message are read. No maintained Go client exists (rspamd
// ships rspamc and a milter, not a Go library), so this one is ours.
//
// Check maps rspamd's action to the pipeline's:
//
//	reject                       550 5.7.1 (rspamd's smtp_message, or "Spam message rejected")
//	soft reject, greylist        451 4.7.1 (temporary: the client retries)
//	add header, rewrite subject  Junk (the subject is not rewritten: the copy goes to \Junk)
//	quarantine                   Junk
//	discard                      550 5.7.1 (refused, never dropped silently)
//	no action                    deliver
//
// and states the facts "rspamd=ACTION" (spaces as underscores) and
// "rspamd.score=S" for the checks after it (the classifier). A check that
// could not be made (rspamd unreachable, an HTTP error, an unreadable
// reply, an unknown action, a timeout) is a temporary failure of the
// message (451 4.7.0), unless the operator chose --rspamd-failure accept:
// the message is then delivered with an "X-Spam-Scan: unavailable" field,
// a warning in the log and surat_unscanned_deliveries_total{check="rspamd"}
// counted. It never passes mail silently unchecked.
//
// This package stores nothing and trains nothing; it runs only on the MX
// port (submitted mail is not checked).
package rspamd
