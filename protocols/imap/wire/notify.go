package wire

// NotifyCommand is a NOTIFY (RFC 5465 §3, §8): NONE, or SET with event
// groups.
type NotifyCommand struct {
	None   bool
	Status bool // SET STATUS: send STATUS for the mailboxes at once
	Groups []NotifyGroup
}

// NotifyGroup is one event group: a mailbox filter and its events.
type NotifyGroup struct {
	// Filter is SELECTED, SELECTED-DELAYED, INBOXES, PERSONAL, SUBSCRIBED,
	// SUBTREE or MAILBOXES (upper case); the last two name Mailboxes.
	Filter    string
	Mailboxes []string
	// Events in upper case (MESSAGENEW, MESSAGEEXPUNGE, FLAGCHANGE,
	// ANNOTATIONCHANGE, MAILBOXNAME, SUBSCRIPTIONCHANGE,
	// MAILBOXMETADATACHANGE, SERVERMETADATACHANGE, or others the
	// dispatcher refuses with NO [BADEVENT], §5); empty for NONE.
	Events []string
	// Fetch is MessageNew's fetch attributes, nil if none (§5.2).
	Fetch *FetchOptions
}

// ReadNotify reads the arguments of NOTIFY through the end of the command:
//
//	notify = "NOTIFY" SP (notify-set / "NONE")
//	notify-set = "SET" [SP "STATUS"] SP event-group *(SP event-group)
//	event-group = "(" filter-mailboxes SP events ")"
//	filter-mailboxes = "selected" / "selected-delayed" / "inboxes" /
//	        "personal" / "subscribed" / ("subtree" SP one-or-more-mailbox) /
//	        ("mailboxes" SP one-or-more-mailbox)
//	events = ("(" event *(SP event) ")") / "NONE"
//	message-event = ("MessageNew" [SP "(" fetch-att *(SP fetch-att) ")"]) / ...
//
// A filter given twice gets BAD (§6), and so do fetch attributes outside
// the selected filters (§5.2). As Dovecot does, events are not required
// in pairs (MessageExpunge alone is accepted, though §5 asks for
// MessageNew with it).
func (d *Decoder) ReadNotify() (*NotifyCommand, error) {
	c := &NotifyCommand{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	kw, err := d.Keyword()
	if err != nil {
		return nil, err
	}
	switch kw {
	case "NONE":
		c.None = true
		return c, d.End()
	case "SET":
	default:
		return nil, syntaxf("Expected SET or NONE, got %s", kw)
	}
	seen := map[string]bool{}
	for first := true; ; first = false {
		if err := d.SP(); err != nil {
			return nil, err
		}
		b, err := d.peek()
		if err != nil {
			return nil, err
		}
		if first && b != '(' {
			if err := d.ExpectKeyword("STATUS"); err != nil {
				return nil, err
			}
			c.Status = true
			continue
		}
		g, err := d.notifyGroup()
		if err != nil {
			return nil, err
		}
		key := g.Filter
		if g.Filter == "SELECTED-DELAYED" {
			key = "SELECTED"
		}
		if g.Filter != "SUBTREE" && g.Filter != "MAILBOXES" {
			if seen[key] {
				return nil, syntaxf("Filter %s given twice", g.Filter)
			}
			seen[key] = true
		}
		c.Groups = append(c.Groups, *g)
		end, err := d.AtEnd()
		if err != nil {
			return nil, err
		}
		if end {
			return c, d.End()
		}
	}
}

func (d *Decoder) notifyGroup() (*NotifyGroup, error) {
	if err := d.Expect('('); err != nil {
		return nil, err
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	g := &NotifyGroup{}
	var err error
	if g.Filter, err = d.Keyword(); err != nil {
		return nil, err
	}
	switch g.Filter {
	case "SELECTED", "SELECTED-DELAYED", "INBOXES", "PERSONAL", "SUBSCRIBED":
	case "SUBTREE", "MAILBOXES":
		if err := d.SP(); err != nil {
			return nil, err
		}
		if _, err := d.oneOrList("Empty mailbox list", func() error {
			m, err := d.Mailbox()
			g.Mailboxes = append(g.Mailboxes, m)
			return err
		}); err != nil {
			return nil, err
		}
	default:
		return nil, syntaxf("Unknown NOTIFY filter %s", g.Filter)
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b != '(' {
		if err := d.ExpectKeyword("NONE"); err != nil {
			return nil, err
		}
		g.Events = []string{}
		return g, d.Expect(')')
	}
	err = d.List(func() error {
		ev, err := d.Keyword()
		if err != nil {
			return err
		}
		g.Events = append(g.Events, ev)
		if ev != "MESSAGENEW" {
			return nil
		}
		p, err := d.peek2()
		if err != nil || p[0] != ' ' || p[1] != '(' {
			return err
		}
		_, _ = d.readByte()
		o := &FetchOptions{}
		n := 0
		err = d.List(func() error { n++; return d.fetchAtt(o, false, nil) })
		if err == nil && n == 0 {
			err = syntaxf("Empty fetch attribute list")
		}
		g.Fetch = o
		return err
	})
	if err != nil {
		return nil, err
	}
	if len(g.Events) == 0 {
		return nil, syntaxf("Empty event list")
	}
	if g.Fetch != nil && g.Filter != "SELECTED" && g.Filter != "SELECTED-DELAYED" {
		return nil, syntaxf("Fetch attributes are for the selected mailbox only")
	}
	return g, d.Expect(')')
}
