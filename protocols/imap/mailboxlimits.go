package imap

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Defaults of Config's mailbox limits (and of serve's flags).
const (
	// DefaultMaxMailboxes: a user may own 1,000 mailboxes, far more than
	// any folder tree kept by hand (a new account has six), while LIST,
	// the per-mailbox records and a client's sync stay bounded. Dovecot's
	// quota_mailbox_count is the same kind of limit.
	DefaultMaxMailboxes = 1000
	// DefaultMaxMailboxDepth: 16 hierarchy levels, the limit Dovecot's
	// storage long kept (16 levels of at most 255 bytes).
	DefaultMaxMailboxDepth = 16
)

// RFC 5530 §3: LIMIT, the operation would pass a limit of the server.
var errTooManyMailboxes = no(imap.ResponseCodeLimit, "Too many mailboxes")
var errMailboxTooDeep = no(imap.ResponseCodeLimit, "Mailbox name has too many hierarchy levels")

// mailboxLimits returns the limits stamped into MailboxCreated and
// MailboxRenamed (0: none), which apply enforces on every node alike.
func (c *Config) mailboxLimits() (count, depth uint32) {
	if c.MaxMailboxes > 0 {
		count = uint32(min(c.MaxMailboxes, 1<<31))
	}
	if c.MaxMailboxDepth > 0 {
		depth = uint32(min(c.MaxMailboxDepth, 1<<31))
	}
	return count, depth
}

// checkMailboxLimits answers CREATE and RENAME with NO [LIMIT] before
// proposing, when the names they would produce are too deep (the deepest
// is name plus what lies below the renamed mailbox, from) or the user has
// no room for the mailboxes they would create (adds: the mailbox itself for
// CREATE, 0 for RENAME, whose missing parents apply still counts). Apply
// checks again against the same limits, so this is only for a prompt,
// clear reply; a concurrent CREATE elsewhere can still be refused there.
func (s *session) checkMailboxLimits(name, from string, adds int) error {
	count, depth := s.srv.cfg.mailboxLimits()
	if depth > 0 {
		deepest := strings.Count(name, string(delim)) + 1
		if from != "" {
			below, err := s.deepestBelow(from)
			if err != nil {
				return err
			}
			deepest += below
		}
		if deepest > int(depth) {
			s.log.Info("imap mailbox refused: too deep", "mailbox", name, "levels", deepest, "limit", depth)
			return errMailboxTooDeep
		}
	}
	if count == 0 || adds == 0 {
		return nil
	}
	mbs, err := s.srv.cfg.Store.Mailboxes(s.user)
	if err != nil {
		return replyFor(err)
	}
	if len(mbs)+adds > int(count) {
		s.log.Info("imap mailbox refused: too many", "mailbox", name, "mailboxes", len(mbs), "limit", count)
		return errTooManyMailboxes
	}
	return nil
}

// deepestBelow is how many levels the deepest mailbox below from adds to
// from's own (0: none below).
func (s *session) deepestBelow(from string) (int, error) {
	mbs, err := s.srv.cfg.Store.Mailboxes(s.user)
	if err != nil {
		return 0, replyFor(err)
	}
	most := 0
	for _, mb := range mbs {
		if rest, ok := strings.CutPrefix(mb.GetName(), from+string(delim)); ok {
			most = max(most, strings.Count(rest, string(delim))+1)
		}
	}
	return most, nil
}
