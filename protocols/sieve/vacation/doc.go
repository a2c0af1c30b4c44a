// Package vacation decides whether a Sieve vacation action (RFC 5230)
// may answer a message, and composes the answer.
//
// ShouldReply applies the rules that keep an autoresponder from answering
// machines and lists (RFC 5230 §4.6, RFC 3834 §2) and from answering mail
// that was not addressed to the user personally (RFC 5230 §4.5), the way
// Dovecot Pigeonhole does by default. Compose builds the reply: a
// complete message with CRLF line ends, Auto-Submitted: auto-replied, the
// thread fields, an "Auto: " subject when the script gave none, RFC 2047
// encoding for non-ASCII header text, and the :mime reason as the
// message's own MIME entity.
//
// The package does no I/O and keeps no state: the once-per-period record
// ("already replied to this sender", RFC 5230 §4.2) is replicated state
// the caller (protocols/sieve/filter, through VacationReplied events)
// keeps, and the reply is queued by the caller with the null envelope
// sender (RFC 5230 §5.1, RFC 3834 §3.3).
package vacation
