// Package outbound is Surat's outbound mail queue: the Relay that turns an
// accepted submission's remote recipients into a Queued event (in the same
// proposal as the message's body and local delivery), the Worker that
// delivers queued mail over SMTP, and the blob Collector.
//
// Queue state lives in the mail projections (mailbox: "que/" entries and the
// "qdu/" due index) and changes only through events: Queued, AttemptFailed,
// Sent, Bounced, QueueRetried, QueueDeleted. This package reads the local
// store and proposes events through the cluster; it never writes Pebble,
// and mailbox knows nothing of SMTP.
//
// # One worker at a time, at least once
//
// The Worker runs on every node but works the queue only while its node is
// the Raft leader (polled), and only once the node has applied the log it
// knows of, so a new leader starts from the state the old one left. An
// attempt's outcome is recorded by proposing AttemptFailed/Sent/Bounced;
// only the commit makes it done. An attempt in flight when its node dies
// (or loses leadership before the outcome commits) leaves the entry due, so
// the next leader tries again: delivery is at least once, as for every MTA
// (RFC 5321 §6.1 accepts duplicates over loss). When leadership is lost in
// the middle of an SMTP transaction the connection is cut at once; when it
// is lost after the remote host accepted, the outcome is still proposed
// (forwarded to the new leader), which keeps duplicates rare.
//
// # Routing (RFC 5321 §5.1)
//
// With a smarthost, all mail goes there. Otherwise the recipient domain's
// MX records are looked up through dns.Resolver, tried in preference order
// (equal preferences in random order); no MX record means the domain itself
// (its A/AAAA) is the host; a null MX (RFC 7505, a single "." record) bounces
// at once with 5.1.10. Addresses that are not public (loopback, private,
// link-local, shared, multicast) are skipped unless Transport.AllowPrivate;
// a domain with only those bounces with 5.4.4. A DNS failure, or DNS disabled (--resolver none)
// without a smarthost, is temporary: the entry stays queued and the reason
// is logged and shown by `surat queue list`.
//
// # TLS
//
// The smarthost connection is protected as Transport.SmarthostTLS says:
// TLSVerify (the zero value) requires STARTTLS and a certificate that
// verifies for the smarthost's name against the system roots or
// SmarthostCA; TLSStartTLS requires STARTTLS without verifying; TLSNone is
// plaintext. A required STARTTLS that is not offered (4.7.4), refused or
// fails its handshake or verification (4.7.5) is a temporary failure: the
// message stays queued, nothing is sent in plaintext. SmarthostAuth logs in
// with AUTH PLAIN after TLS; a refused login is temporary too.
//
// To MX hosts each host gets a plan (policy.go), by the recipient domain's
// policies in this order:
//   - DANE (RFC 7672, subpackage dane), when Transport.DANE is set (a
//     resolver trusted to validate DNSSEC): secure, usable TLSA records at
//     _PORT._tcp.MXHOST make STARTTLS mandatory and the certificate is
//     checked against them instead of the Web PKI; DANE takes precedence
//     over MTA-STS (RFC 8461 §2). Insecure or absent records: next rule.
//   - MTA-STS (RFC 8461, subpackage mtasts), when Transport.MTASTS is set:
//     in enforce mode only MX hosts the policy names are used, each over
//     STARTTLS with a certificate valid for its name (else a temporary
//     failure, 4.7.5); in testing mode delivery is opportunistic and the
//     failure only reported.
//   - Otherwise STARTTLS is opportunistic (RFC 3207, RFC 7435 §3): used
//     when offered, not verified, and a failed handshake falls back to
//     plaintext on a new connection.
//
// A REQUIRETLS message (RFC 8689; Queued.require_tls, from the submission's
// MAIL) goes only over TLS with a verified certificate (DANE, or the Web
// PKI for the MX name) to a host that offers REQUIRETLS, which is passed
// on; when every host fails so, it bounces with 5.7.10 and its DSN returns
// the header only. "TLS-Required: No" in a message without REQUIRETLS
// sets the recipient's policies aside (RFC 8689 §4.2.2).
//
// Every TLS session with an MX host (and every MTA-STS policy that could
// not be fetched) gives a TLS-RPT outcome (RFC 8460, subpackage tlsrpt) in
// Attempt.Reports; the Worker counts them
// (surat_outbound_tls_policy_total) and hands them to Config.TLSReport.
// Every delivery log line carries the connection's outcome
// (tls=verified|unverified|plaintext|failed, tls_version, tls_cipher,
// tls_detail) and surat_outbound_tls_total counts them.
//
// # Outcomes
//
// Per recipient (RFC 5321 §4.2.1, §4.5.4.1): 2xx is Sent; 5xx at RCPT, or
// at MAIL/DATA for all recipients, is Bounced; anything else (4xx, a lost
// connection, a timeout) is AttemptFailed with the next attempt from the
// backoff schedule (default 1m, 5m, 15m, 30m, 1h, then every 2h). When a
// temporary failure happens after the entry's expiry (default 5 days from
// queueing, RFC 5321 §4.5.4.1 suggests 4-5 days) the recipient bounces with
// status 4.4.7.
//
// # Delivery status notifications (RFC 3464, RFC 3461, RFC 6522)
//
// An entry marked local_failure holds local recipients that apply could
// not deliver to after the message was accepted (a mailbox that filled
// between RCPT and the commit): the worker attempts nothing and bounces
// them at once with the reply apply recorded (552 5.2.2, 550 5.1.1).
//
// A bounce produces a multipart/report DSN to the envelope sender (From:
// MAILER-DAEMON of the first local domain, null reverse-path) unless the
// sender is empty (never bounce a bounce, RFC 5321 §4.5.5) or the recipient
// asked NOTIFY=NEVER or a NOTIFY without FAILURE. RET=HDRS returns only the
// header; RET=FULL (and, for messages under 256 KiB, no RET) the whole
// message. A recipient with NOTIFY=SUCCESS relayed to a host without the
// DSN extension gets an "Action: relayed" DSN (RFC 3461 §6.2.1); to a host
// with DSN the parameters are passed on. The DSN is part of the outcome's
// proposal: a Delivered into a local sender's INBOX or a Queued to a remote
// one, so it exists exactly when the bounce is recorded.
//
// A recipient still pending Config.DelayWarning after queueing (and whose
// NOTIFY allows DELAY; no NOTIFY counts as FAILURE,DELAY, RFC 3461 §4.1)
// gets one "Action: delayed" DSN with the header only and
// Will-Retry-Until. It is sent by the attempt that crosses the mark, in
// the proposal that records that attempt, so the log itself says whether
// it went out: a new leader neither skips nor repeats it. DSNs about
// internationalised mail use RFC 6533's global types.
//
// # Blob collection
//
// The Collector, on the leader, proposes BlobsCollected for bodies that no
// message or queue entry references and that were last touched more than
// a set number of log entries ago (an upload that never became a message),
// and that no upload in progress has pinned (BlobsCollected carries the
// collector's clock; apply keeps a body pinned past it).
package outbound
