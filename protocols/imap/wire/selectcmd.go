package wire

import "github.com/emersion/go-imap/v2"

// SelectCommand is a SELECT or EXAMINE with its parameters (RFC 9051
// §6.3.2; RFC 7162 §3.1.8 CONDSTORE, §3.2.5 QRESYNC).
type SelectCommand struct {
	Mailbox   string
	CondStore bool
	QResync   *QResyncParams
}

// QResyncParams are the QRESYNC parameters of SELECT/EXAMINE (RFC 7162
// §3.2.5): the client's last known UIDVALIDITY and mod-sequence, and
// optionally the UIDs it knows and sequence-number/UID pairs that let
// the server narrow VANISHED (EARLIER).
type QResyncParams struct {
	UIDValidity uint32
	ModSeq      uint64
	KnownUIDs   imap.UIDSet // nil if not given; never "*" or "$"
	// SeqMatch is the seq-match-data, nil if not given: KnownSeqs and
	// KnownSeqUIDs pair up in order (RFC 7162 §3.2.5.2).
	SeqMatch *QResyncSeqMatch
}

// QResyncSeqMatch is QRESYNC's seq-match-data.
type QResyncSeqMatch struct {
	KnownSeqs    imap.SeqSet
	KnownSeqUIDs imap.UIDSet
}

// ReadSelect reads the arguments of SELECT or EXAMINE through the end of
// the command:
//
//	select = "SELECT" SP mailbox [select-params]
//	select-params = SP "(" select-param *(SP select-param) ")"
//	select-param = "CONDSTORE" / "QRESYNC" SP "(" uidvalidity SP
//	               mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
//	seq-match-data = "(" known-sequence-set SP known-uid-set ")"
//
// Whether QRESYNC was enabled first is the dispatcher's check (RFC 7162
// §3.2.5: BAD otherwise).
func (d *Decoder) ReadSelect() (*SelectCommand, error) {
	c := &SelectCommand{}
	var err error
	c.Mailbox, err = d.mailboxParams("Empty SELECT parameter list", func() error {
		kw, err := d.Keyword()
		if err != nil {
			return err
		}
		switch kw {
		case "CONDSTORE":
			c.CondStore = true
		case "QRESYNC":
			if c.QResync != nil {
				return syntaxf("QRESYNC given twice")
			}
			if err := d.SP(); err != nil {
				return err
			}
			c.QResync, err = d.qresyncParams()
			return err
		default:
			return syntaxf("Unknown SELECT parameter %s", kw)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// mailboxParams reads SP mailbox [SP "(" param *(SP param) ")"] through
// the end of the command, each param read by param: the shape of SELECT,
// EXAMINE and CREATE with their parameters (RFC 7162 §3.2.5, RFC 6154
// §3). An empty list is a syntax error saying empty.
func (d *Decoder) mailboxParams(empty string, param func() error) (string, error) {
	if err := d.SP(); err != nil {
		return "", err
	}
	mailbox, err := d.Mailbox()
	if err != nil {
		return "", err
	}
	if ok, err := d.Maybe(' '); err != nil || !ok {
		if err != nil {
			return "", err
		}
		return mailbox, d.End()
	}
	n := 0
	err = d.List(func() error {
		n++
		return param()
	})
	if err == nil && n == 0 {
		err = syntaxf("%s", empty)
	}
	if err != nil {
		return "", err
	}
	return mailbox, d.End()
}

func (d *Decoder) qresyncParams() (*QResyncParams, error) {
	if err := d.Expect('('); err != nil {
		return nil, err
	}
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer d.leave()
	p := &QResyncParams{}
	var err error
	if p.UIDValidity, err = d.NzNumber(); err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	if p.ModSeq, err = d.Number64(); err != nil {
		return nil, err
	}
	if p.ModSeq == 0 {
		return nil, syntaxf("QRESYNC mod-sequence must not be zero")
	}
	for {
		if ok, err := d.Maybe(')'); ok || err != nil {
			return p, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		b, err := d.peek()
		if err != nil {
			return nil, err
		}
		switch {
		case b == '(' && p.SeqMatch == nil:
			if p.SeqMatch, err = d.seqMatchData(); err != nil {
				return nil, err
			}
		case p.KnownUIDs == nil && p.SeqMatch == nil:
			if p.KnownUIDs, err = d.knownUIDs(); err != nil {
				return nil, err
			}
		default:
			return nil, syntaxf("Invalid QRESYNC parameters")
		}
	}
}

// knownUIDs reads a UID set without "*" or "$" (RFC 7162 §7: known-uids).
func (d *Decoder) knownUIDs() (imap.UIDSet, error) {
	set, err := d.UIDSet()
	if err != nil {
		return nil, err
	}
	if set.Dynamic() {
		return nil, syntaxf("Known UIDs must not use * or $")
	}
	return set, nil
}

func (d *Decoder) seqMatchData() (*QResyncSeqMatch, error) {
	if err := d.Expect('('); err != nil {
		return nil, err
	}
	m := &QResyncSeqMatch{}
	var err error
	if m.KnownSeqs, err = d.SeqSet(); err != nil {
		return nil, err
	}
	if m.KnownSeqs.Dynamic() {
		return nil, syntaxf("Known sequence numbers must not use *")
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	if m.KnownSeqUIDs, err = d.knownUIDs(); err != nil {
		return nil, err
	}
	return m, d.Expect(')')
}
