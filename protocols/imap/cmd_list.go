package imap

import (
	"github.com/emersion/go-imap/v2"
)

// cmdList: LIST (RFC 9051 §6.3.9) and LSUB (RFC 3501 §6.3.9).
func cmdList(s *session, c *command) error {
	if c.name == "LSUB" {
		return cmdLsub(s, c)
	}
	lc, err := c.dec.ReadList()
	if err != nil {
		return err
	}
	if lc.ReturnMyRights {
		return bad("LIST return option not supported")
	}
	opts := imap.ListOptions{
		SelectSubscribed: lc.SelectSubscribed, SelectRemote: lc.SelectRemote,
		SelectRecursiveMatch: lc.SelectRecursiveMatch, SelectSpecialUse: lc.SelectSpecialUse,
		ReturnSubscribed: lc.ReturnSubscribed, ReturnChildren: lc.ReturnChildren,
		ReturnSpecialUse: lc.ReturnSpecialUse,
	}
	if lc.ReturnStatus != nil {
		if opts.ReturnStatus, err = statusOptions(lc.ReturnStatus); err != nil {
			return err
		}
	}
	patterns := lc.Patterns
	if len(patterns) == 1 && patterns[0] == "" {
		patterns = nil // RFC 9051 §6.3.9: "" asks for the delimiter
	}
	return s.List(func(data *imap.ListData) error {
		return s.writeList(data)
	}, lc.Reference, patterns, &opts)
}

// cmdLsub: LSUB ref pattern (RFC 3501 §6.3.9): the subscribed names that
// match, and, with "%", a name that does not match but has a subscribed
// name below it is returned as its matching ancestor, \Noselect unless
// subscribed itself. Only \Noselect is returned, as Dovecot does.
func cmdLsub(s *session, c *command) error {
	lc, err := c.dec.ReadLsub()
	if err != nil {
		return err
	}
	ref, pattern := lc.Reference, lc.Pattern
	subs, err := s.srv.cfg.Store.Subscriptions(s.user)
	if err != nil {
		return replyFor(err)
	}
	ref, pattern = canonicalInbox(ref), canonicalInbox(pattern)
	subscribed := map[string]bool{}
	for _, n := range subs {
		subscribed[n] = true
	}
	found := map[string]bool{} // name → subscribed
	for _, n := range subs {
		if listMatch(n, ref, pattern) {
			found[n] = true
			continue
		}
		for i := len(n) - 1; i > 0; i-- {
			if n[i] == delim && listMatch(n[:i], ref, pattern) {
				found[n[:i]] = found[n[:i]] || subscribed[n[:i]]
				break
			}
		}
	}
	names := make([]string, 0, len(found))
	for n := range found {
		names = append(names, n)
	}
	sortMailboxNames(names)
	for _, n := range names {
		var attrs []imap.MailboxAttr
		if !found[n] {
			attrs = []imap.MailboxAttr{imap.MailboxAttrNoSelect}
		}
		e := s.enc.Untagged().Atom("LSUB").SP().List(len(attrs), func(i int) { s.enc.Atom(string(attrs[i])) })
		if e.SP().Quoted(string(delim)).SP().Mailbox(n).CRLF().Err() != nil {
			return e.Err()
		}
	}
	return nil
}

// writeList writes one LIST response (RFC 9051 §7.3.1), its
// CHILDINFO extended item (RFC 5258 §3.5), and for LIST-STATUS the STATUS
// response after it (RFC 5819 §2).
func (s *session) writeList(data *imap.ListData) error {
	attrs := data.Attrs
	e := s.enc.Untagged().Atom("LIST").SP().List(len(attrs), func(i int) { s.enc.Atom(string(attrs[i])) })
	e.SP().Quoted(string(delim)).SP().Mailbox(data.Mailbox)
	if data.ChildInfo != nil && data.ChildInfo.Subscribed {
		e.SP().Open().Quoted("CHILDINFO").SP().Open().Quoted("SUBSCRIBED").Close().Close()
	}
	if e.CRLF().Err() != nil {
		return e.Err()
	}
	if data.Status != nil {
		data.Status.Mailbox = data.Mailbox
		return s.writeStatus(data.Status)
	}
	return nil
}
