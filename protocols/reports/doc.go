// Package reports owns Surat's mail authentication reports: DMARC
// aggregate reports (RFC 7489 §7.2 and Appendix C) and TLS-RPT reports
// (RFC 8460), recorded as events, sent daily through the outbound queue,
// and DMARC aggregate reports received for our own domains, summarized.
//
// Recording: the node that accepts a message turns its DMARC evaluation
// (DMARCResult) into a DmarcRecorded event with DMARCEvent and proposes it
// with the delivery; the outbound worker turns each delivery session's TLS
// outcome (TLSOutcome) into a TLSResult event with TLSEvent. Apply
// (mailbox) aggregates them per (policy domain, UTC day) into counted rows,
// bounded, and keeps only domains that asked for reports (a rua).
//
// Sending: a Sender runs on every node and works only while its node
// leads. After a UTC day ends (and Config.Delay more), it builds each
// domain-day's report (DMARC: Appendix C XML, gzip, application/gzip;
// TLS-RPT: §4.4 JSON, gzip, application/tlsrpt+gzip), addressed from
// noreply-dmarc@ (tlsrpt-noreply@) the first local domain to every mailto:
// rua that takes it (its !size limit, RFC 7489 §6.2; a remote domain; an
// external destination that authorized it, §7.1), and proposes in ONE
// proposal the report's body, its Queued entry and the event that closes
// the day (DmarcReportsSent, TLSReportsSent). Apply refuses to close a day
// twice or one whose rows changed since they were read, so a leader change
// neither loses a day nor sends it twice. Days older than Config.Retention
// are pruned (ReportsPruned), sent or not.
//
// Receiving: ParseAggregate reads a report message (zip, gzip or plain
// XML attachment, decompression bounded) into a Summary (IsReportSubject
// is the cheap test on its Subject that comes first); ReceivedEvent
// turns it into a DmarcReportReceived event, which apply keeps (the latest
// per domain) for `surat dmarc report` and GET /v1/dmarc/reports.
//
// It must not write to Pebble (it proposes) nor make delivery attempts
// (the queue worker does).
package reports
