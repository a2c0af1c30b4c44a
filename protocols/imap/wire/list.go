package wire

// ListCommand is a LIST (RFC 9051 §6.3.9, RFC 5258 LIST-EXTENDED).
type ListCommand struct {
	Reference string
	// Patterns holds one pattern, or several with the extended syntax
	// (RFC 5258 §3: mbox-or-pat).
	Patterns []string

	// Selection options (RFC 5258 §3.1; SPECIAL-USE, RFC 6154 §5.1).
	SelectSubscribed     bool
	SelectRemote         bool
	SelectRecursiveMatch bool
	SelectSpecialUse     bool

	// Return options (RFC 5258 §3.2; RFC 5819 STATUS; RFC 6154 §5.2
	// SPECIAL-USE; RFC 8440 MYRIGHTS).
	ReturnSubscribed bool
	ReturnChildren   bool
	ReturnSpecialUse bool
	ReturnMyRights   bool
	ReturnStatus     *StatusOptions

	// Extended is set when the command used LIST-EXTENDED syntax
	// (selection options, several patterns, or return options): the
	// answer then follows RFC 5258 (CHILDINFO, \NonExistent...).
	Extended bool
}

// oneOrList reads one item, or a parenthesised list of one or more
// (item / "(" item *(SP item) ")"): LIST's patterns (RFC 5258 §3),
// NOTIFY's mailboxes (RFC 5465 §6), GETMETADATA's entries (RFC 5464
// §4.2). It reports whether a list was read; an empty one is a syntax
// error saying empty.
func (d *Decoder) oneOrList(empty string, item func() error) (list bool, err error) {
	b, err := d.peek()
	if err != nil {
		return false, err
	}
	if b != '(' {
		return false, item()
	}
	n := 0
	err = d.List(func() error {
		n++
		return item()
	})
	if err == nil && n == 0 {
		err = syntaxf("%s", empty)
	}
	return true, err
}

// ReadList reads the arguments of LIST through the end of the command:
//
//	list = "LIST" [SP list-select-opts] SP mailbox SP mbox-or-pat
//	       [SP list-return-opts]
//	list-select-opts = "(" [list-select-option *(SP list-select-option)] ")"
//	mbox-or-pat = list-mailbox / patterns
//	patterns = "(" list-mailbox *(SP list-mailbox) ")"
//	list-return-opts = "RETURN" SP "(" [return-option *(SP return-option)] ")"
//
// Unknown options get BAD, and so does RECURSIVEMATCH without another
// selection option (RFC 5258 §3.1).
func (d *Decoder) ReadList() (*ListCommand, error) {
	c := &ListCommand{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b == '(' {
		c.Extended = true
		if err := d.List(func() error { return d.listSelectOption(c) }); err != nil {
			return nil, err
		}
		if c.SelectRecursiveMatch && !c.SelectSubscribed && !c.SelectSpecialUse {
			return nil, syntaxf("RECURSIVEMATCH needs another selection option")
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	if c.Reference, err = d.reference(); err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	list, err := d.oneOrList("Empty pattern list", func() error {
		p, err := d.ListMailbox()
		c.Patterns = append(c.Patterns, p)
		return err
	})
	if err != nil {
		return nil, err
	}
	if list {
		c.Extended = true
	}
	if ok, err := d.Maybe(' '); err != nil {
		return nil, err
	} else if ok {
		c.Extended = true
		if err := d.ExpectKeyword("RETURN"); err != nil {
			return nil, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		if err := d.List(func() error { return d.listReturnOption(c) }); err != nil {
			return nil, err
		}
	}
	return c, d.End()
}

// reference reads LIST's reference name: a mailbox, decoded but with
// "inbox" kept as sent (it is a prefix, RFC 9051 §6.3.9).
func (d *Decoder) reference() (string, error) {
	s, err := d.Astring()
	if err != nil {
		return "", err
	}
	name, err := d.decodeName(s)
	if err != nil {
		return s, nil // as ListMailbox does: it matches nothing
	}
	return name, nil
}

func (d *Decoder) listSelectOption(c *ListCommand) error {
	kw, err := d.Keyword()
	if err != nil {
		return err
	}
	switch kw {
	case "SUBSCRIBED":
		c.SelectSubscribed = true
	case "REMOTE":
		c.SelectRemote = true
	case "RECURSIVEMATCH":
		c.SelectRecursiveMatch = true
	case "SPECIAL-USE":
		c.SelectSpecialUse = true
	default:
		return syntaxf("Unknown LIST selection option %s", kw)
	}
	return nil
}

func (d *Decoder) listReturnOption(c *ListCommand) error {
	kw, err := d.Keyword()
	if err != nil {
		return err
	}
	switch kw {
	case "SUBSCRIBED":
		c.ReturnSubscribed = true
	case "CHILDREN":
		c.ReturnChildren = true
	case "SPECIAL-USE":
		c.ReturnSpecialUse = true
	case "MYRIGHTS":
		c.ReturnMyRights = true
	case "STATUS":
		if err := d.SP(); err != nil {
			return err
		}
		o, err := d.statusAtts()
		if err != nil {
			return err
		}
		c.ReturnStatus = &o
	default:
		return syntaxf("Unknown LIST return option %s", kw)
	}
	return nil
}

// LsubCommand is an IMAP4rev1 LSUB (RFC 3501 §6.3.9).
type LsubCommand struct {
	Reference, Pattern string
}

// ReadLsub reads the arguments of LSUB through the end of the command:
// SP mailbox SP list-mailbox.
func (d *Decoder) ReadLsub() (*LsubCommand, error) {
	c := &LsubCommand{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	var err error
	if c.Reference, err = d.reference(); err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	if c.Pattern, err = d.ListMailbox(); err != nil {
		return nil, err
	}
	return c, d.End()
}
