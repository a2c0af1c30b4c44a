package imap

import (
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// cmdNotify: NOTIFY SET [STATUS] (filter (events))... and NOTIFY NONE
// (RFC 5465 §3); the grammar is wire.ReadNotify, the delivery notify.go.
// A new NOTIFY SET replaces the previous one whole (§3).
func cmdNotify(s *session, c *command) error {
	nc, err := c.dec.ReadNotify()
	if err != nil {
		return err
	}
	if nc.None {
		s.stopNotify()
		return nil
	}
	n, err := newNotifyState(nc)
	if err != nil {
		return err
	}
	s.stopNotify()
	limit := s.srv.cfg.notifyQueue
	if limit <= 0 {
		limit = defaultNotifyQueue
	}
	n.watch = &notifyWatch{user: s.user, limit: limit, serverMeta: n.serverMeta, wake: make(chan struct{}, 1)}
	n.watch.ids.Store(&map[uint64]bool{})
	// Registered before the mailboxes are read, so that no change
	// between the two is missed (one seen twice costs a STATUS more).
	s.srv.hub.addWatch(n.watch)
	s.notify = n
	if err := s.resolve(n); err != nil {
		s.stopNotify()
		return err
	}
	if nc.Status {
		return s.initialNotifyStatus()
	}
	return nil
}

// newNotifyState checks a NOTIFY SET's events (RFC 5465 §5): NO
// [BADEVENT (the events served)] for one not served; for the selected
// mailbox, MessageNew and MessageExpunge together, and FlagChange only
// with them, or BAD. Other filters take any events, as Dovecot does (and
// imaptest's notify script asks).
func newNotifyState(nc *wire.NotifyCommand) (*notifyState, error) {
	n := &notifyState{}
	unsupported := false
	for _, g := range nc.Groups {
		var ev notifyEvents
		for _, name := range g.Events {
			found := false
			for _, e := range notifyEventNames {
				if strings.EqualFold(name, e.name) {
					ev |= e.ev
					found = true
				}
			}
			unsupported = unsupported || !found
		}
		if ev&evFlagChange != 0 {
			n.anyFlags = true
		}
		if ev&evServerMetadata != 0 {
			n.serverMeta = true
		}
		switch g.Filter {
		case "SELECTED", "SELECTED-DELAYED":
			if both := evMessageNew | evMessageExpunge; ev&both != 0 && ev&both != both {
				return nil, bad("MessageNew and MessageExpunge must be together")
			}
			if ev&evFlagChange != 0 && ev&evMessageExpunge == 0 {
				return nil, bad("FlagChange requires MessageNew and MessageExpunge")
			}
			n.selEvents, n.delayed = ev, g.Filter == "SELECTED-DELAYED"
			n.fetch = notifyFetch(g.Fetch)
		default:
			names := make([]string, len(g.Mailboxes))
			for i, m := range g.Mailboxes {
				names[i] = canonicalInbox(m)
			}
			n.groups = append(n.groups, notifyGroup{filter: g.Filter, names: names, events: ev})
		}
	}
	if unsupported {
		names := make([]string, len(notifyEventNames))
		for i, e := range notifyEventNames {
			names[i] = e.name
		}
		return nil, no(imap.ResponseCode("BADEVENT ("+strings.Join(names, " ")+")"), "Unsupported NOTIFY events")
	}
	return n, nil
}
