package smtp

import (
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// errMailboxFull refuses a recipient whose mailbox is full. RFC 5321
// §4.2.2 gives 452 for "insufficient system storage" and §4.5.3.1.10 makes
// a RCPT refusal a client can recover from a 452 (not RFC 821's 552);
// RFC 3463 X.2.2 is "mailbox full". It is temporary here, as Postfix
// answers at RCPT when asked by Dovecot's quota-status service in the
// usual setup (quota_status_overquota = "452 4.2.2 ..."; Dovecot's own
// example is 552 5.2.2): the user may make room, and the sender keeps the
// message and retries until its queue lifetime ends, then bounces it.
var errMailboxFull = reply(452, 4, 2, 2, "Mailbox full, try again later")

// checkQuota refuses a local recipient at RCPT whose mailbox is full: its
// used bytes or messages already reach its quota, or the message, when
// MAIL gave its size (RFC 1870 §4, SIZE=), would not fit. Apply checks
// again when the delivery commits; a mailbox that fills in between is the
// rare case that gets a DSN after the 250 (deliver.go). A failed read is
// not a refusal: apply decides then.
func (s *session) checkQuota(user string) error {
	u, err := s.srv.cfg.Directory.User(user)
	if err != nil {
		if !s.srv.cfg.IsNotFound(err) {
			s.log.Warn("smtp quota not checked: directory read failed", "user", user, "err", err)
		}
		return nil
	}
	if !mailboxFull(u, s.size) {
		return nil
	}
	s.log.Info("smtp recipient refused: mailbox full", "from", s.from, "user", user,
		"used_bytes", u.GetUsedBytes(), "quota_bytes", u.GetQuotaBytes(),
		"used_messages", u.GetUsedMessages(), "quota_messages", u.GetQuotaMessages(), "size", s.size)
	return errMailboxFull
}

// mailboxFull reports whether u cannot take one more message of size
// bytes (0: not known yet, so only a mailbox already at its quota is
// full: any message has a byte). The stored message is a little larger
// than the one announced (Received is prepended), which apply's own check
// covers.
func mailboxFull(u *evlog.UserRecord, size int64) bool {
	return mailbox.OverQuota(u, uint64(max(size, 1)), 1)
}
