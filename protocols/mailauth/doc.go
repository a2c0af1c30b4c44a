// Package mailauth decides what Surat does with a message arriving on the MX
// port: it checks SPF (RFC 7208), every DKIM signature (RFC 6376, RFC 8463),
// DMARC (RFC 7489, with the DMARCbis additions named below) and, through a
// narrow interface, ARC (RFC 8617), and returns one Verdict: the
// Authentication-Results header field to prepend (RFC 8601, authserv-id =
// the node's --hostname), the action (deliver, deliver to Junk, refuse
// permanently or temporarily, with the SMTP reply), and a Record of the
// DMARC evaluation for aggregate reports (RFC 7489 §7.2).
//
// A Checker is built once per node from a Config; each message gets a
// Message from Checker.Start (at DATA, with the envelope), is written to it
// as it streams in (Message is an io.Writer: the body is never held, only
// the header section, up to Config.MaxHeaderBytes), and ends with
// Message.Finish. SPF starts at Start, the DMARC record look-up as soon as
// the header section has been read, and DKIM (and ARC) verification run on
// pipes concurrently with the stream.
//
// StripResults is the stream filter that drops every Authentication-Results
// field carrying our authserv-id before the message is stored (RFC 8601 §5).
//
// # Policy
//
// DMARC (RFC 7489 §6.6): a message whose From domain publishes p=reject and
// fails gets 550 5.7.1 after DATA (§6.6.3, §10.3); p=quarantine delivers to
// Junk; sampling by pct= (§6.6.4) downgrades reject to quarantine and
// quarantine to none for the messages sampled out, as does DMARCbis' t=y.
// sp= applies to subdomains of the organizational domain, and DMARCbis' np=
// to subdomains that do not exist (no A, AAAA or MX). A temporary DNS error
// that could change the outcome gives 451 4.4.3, never a 5xx.
//
// SPF alone (--spf-policy):
//   - dmarc (default): SPF acts only through DMARC. A fail with no DMARC
//     record is recorded in Authentication-Results and nothing else.
//   - reject: an SPF fail of the MAIL FROM identity without a DKIM pass for
//     the From domain (relaxed alignment) gets 550 5.7.23 (RFC 7372 §3.2),
//     whatever DMARC says.
//   - none: SPF is not checked at all (spf=none): for an MX behind a relay,
//     where the connecting address is never the sender's. DMARC then passes
//     on DKIM only.
//
// A recipient domain can be set to report-only (Config.Enforce): its DMARC
// rejections and quarantines are only reported. When the recipients of a
// message mix enforcing and report-only domains, the message-level action
// is Junk (never a rejection the report-only domain did not ask for), and
// Verdict.Domains gives the action per recipient domain.
//
// # ARC
//
// ARC chains are verified by protocols/mailauth/arc (Config.ARC). A DMARC
// failure is overridden (delivered, recorded as override local_policy
// "arc=pass ...") when the chain passes, its newest sealer is in
// Config.TrustedARCSealers, and the oldest set of the unbroken run of
// trusted sealers ending with the newest one says dmarc=pass in its
// ARC-Authentication-Results. Trusting the newest sealer is what Gmail and
// Microsoft do; reading only what a trusted sealer wrote keeps an
// untrusted hop before it from vouching for anything. The
// Authentication-Results then says dmarc=fail with "override=arc" in its
// comment and the reason.
//
// # Where RFC 7489 and where DMARCbis
//
// Record discovery follows RFC 7489 §6.6.3 (the From domain, then its
// organizational domain, two look-ups at most) with the organizational
// domain from the Public Suffix List (RFC 7489 §3.2) via
// golang.org/x/net/publicsuffix, not DMARCbis' DNS tree walk. From
// DMARCbis: np=, t=, and relaxed alignment as "same organizational domain".
// pct= is honoured as RFC 7489 §6.6.4 defines (DMARCbis dropped it).
//
// # Limits
//
// Memory per message is bounded by Config.MaxHeaderBytes (1 MiB; a larger
// header section gets 552 5.3.4) plus the pipes' buffers: the body is never
// held. At most 8 DKIM signatures and 4 author domains are evaluated. A
// header section folded into so many lines that go-msgauth's unfolding
// would cost minutes is not given to it (its signatures are permerror).
// go-msgauth checks a signature's x= against the system clock, not
// Config.Now.
//
// The package does no I/O of its own other than DNS through the configured
// resolver.
package mailauth
