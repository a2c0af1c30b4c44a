package smtp

import (
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// Per-user send limits (submission only; see the package doc). They count
// what the user has put in the outbound queue, from the replicated
// projection, so that they hold across nodes and failovers: a node's
// memory would forget at a restart and see only its own sessions.

// Defaults of Config's send limits (and of serve's flags).
const (
	// DefaultMaxSendPerHour: remote recipients per user and hour. A person
	// writing mail rarely reaches a few dozen an hour; 500 leaves room for
	// an announcement to a few hundred addresses, while an account whose
	// password leaked is stopped at 500 spam recipients an hour instead of
	// tens of thousands. Recipients are counted rather than messages, so
	// that one message to --max-recipients addresses cannot multiply the
	// limit by a hundred.
	DefaultMaxSendPerHour = 500
	// DefaultMaxQueuedBytesPerUser: ten messages of the default 25 MiB
	// maximum size may wait for a slow remote host at once; every node
	// keeps the whole queue, so one user cannot fill the cluster's disks.
	DefaultMaxQueuedBytesPerUser = 256 << 20
)

// SenderUsageReader is the read the send limits need (*mailbox.Store has
// it). A Directory without it gets no early check at RCPT; apply still
// enforces the limits stamped into Queued.
type SenderUsageReader interface {
	SenderUsage(submitter string, now int64) (mailbox.SenderUsage, error)
}

// checkSendLimits runs at RCPT for each new non-local recipient of a
// submission: the user's remote recipients of the last hour, with those
// already accepted in this transaction and this one, must stay within
// MaxSendPerHour, and the user's bytes in the queue must be under
// MaxQueuedBytesPerUser (the message's own size is checked by apply, once
// it is known). Local recipients count towards neither: the limits guard
// the cluster's outbound reputation and disk, and local mail is bounded by
// the recipients' quotas.
func (s *session) checkSendLimits() error {
	cfg := &s.srv.cfg
	ur, ok := cfg.Directory.(SenderUsageReader)
	if !ok || s.user == "" || (cfg.MaxSendPerHour < 0 && cfg.MaxQueuedBytesPerUser < 0) {
		return nil
	}
	u, err := ur.SenderUsage(s.user, cfg.Now().Unix())
	if err != nil {
		s.log.Warn("smtp send usage read failed", "user", s.user, "err", err)
		return errTemporary
	}
	if limit := cfg.MaxSendPerHour; limit >= 0 {
		if u.RecipientsLastHour >= uint64(limit) {
			s.log.Info("smtp recipient refused: hourly send limit reached", "user", s.user, "sent", u.RecipientsLastHour, "limit", limit)
			return errSendRateLimit
		}
		if u.RecipientsLastHour+uint64(len(s.nonLocal))+1 > uint64(limit) {
			s.log.Info("smtp recipient refused: hourly send limit", "user", s.user, "sent", u.RecipientsLastHour, "pending", len(s.nonLocal), "limit", limit)
			return errSendRateRecipients
		}
	}
	if limit := cfg.MaxQueuedBytesPerUser; limit >= 0 && u.QueuedBytes >= uint64(limit) {
		s.log.Info("smtp recipient refused: queued bytes limit", "user", s.user, "queued", u.QueuedBytes, "limit", limit)
		return errQueuedBytesLimit
	}
	return nil
}

// stampSendLimits writes the user's limits into the Queued events of a
// submission, so that apply enforces the same ones on every node, also
// for a message whose size or concurrent sessions the RCPT check could
// not see (docs/DESIGN.md: limits travel in the event).
func (s *Server) stampSendLimits(events []*evlog.Event) {
	for _, e := range events {
		q := e.GetQueued()
		if q == nil || q.GetSubmitter() == "" {
			continue
		}
		if s.cfg.MaxSendPerHour >= 0 {
			q.MaxRecipientsPerHour = uint32(min(s.cfg.MaxSendPerHour, 1<<31))
		}
		if s.cfg.MaxQueuedBytesPerUser >= 0 {
			q.MaxQueuedBytes = uint64(s.cfg.MaxQueuedBytesPerUser)
		}
	}
}
