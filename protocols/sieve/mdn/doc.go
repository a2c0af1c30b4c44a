// Package mdn builds the rejection a Sieve reject or ereject action sends
// when the message was already accepted (RFC 5429 §2.1.2): a Message
// Disposition Notification (RFC 8098) with the disposition "deleted",
// the script's reason in its human-readable part and the original
// message's header in its third part, from the postmaster to the
// envelope sender, marked Auto-Submitted: auto-replied (RFC 3834 §5).
//
// It only formats: the decision to reject at SMTP time instead (RFC 5429
// §2.1.1), and the queueing with the null envelope sender so that nothing
// answers the rejection (RFC 3834 §3.3), are the caller's
// (protocols/sieve/filter). It does no I/O and keeps no state.
package mdn
