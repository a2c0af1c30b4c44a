package imap

import (
	"context"

	evlog "github.com/surat-mail/surat/log"
)

// SpamLearner trains the spam classifier from what users file into and
// out of Junk (*spam.Learner has it; protocols/spam's doc says what
// trains what). Its calls come after the command has committed, before
// its reply; they bound their own work and never fail the command.
type SpamLearner interface {
	Filed(ctx context.Context, user, from string, to *evlog.MailboxRecord, uids []uint32)
	Appended(ctx context.Context, user, to string, body []byte)
}

// learnFiled tells the learner that COPY or MOVE put messages from the
// selected mailbox into dst, where they have the UIDs in ranges.
func (s *session) learnFiled(dst *evlog.MailboxRecord, ranges []*evlog.UidRange) {
	l := s.srv.cfg.SpamLearner
	if l == nil {
		return
	}
	src, err := s.srv.cfg.Store.Mailbox(s.sel.state.id)
	if err != nil {
		return // gone meanwhile: nothing to say about where it came from
	}
	l.Filed(s.ctx, s.user, src.GetSpecialUse(), dst, expandRanges(ranges))
}
