package spamcorpus

import (
	"bufio"
	"bytes"
	"fmt"
	"net/mail"
	"net/textproto"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/bench/imapload"
)

// Stored is one stored message of the test user, as read back.
type Stored struct {
	Mailbox string // INBOX or Junk
	Index   int    // from the first Return-Path's msg-INDEX@SenderDomain
	Status  []SpamStatus
}

// SpamStatus is an X-Spam-Status field, SpamAssassin's form that Surat
// writes: "Yes, score=7.2 required=5.0 tests=...".
type SpamStatus struct {
	Spam     bool
	Score    float64
	HasScore bool
	Required string
}

// ReadStored reads every message of the user's INBOX and Junk over IMAP
// (STARTTLS): the first Return-Path field, which the delivering node
// wrote, and the X-Spam-Status fields.
func ReadStored(addr, user, password string) ([]Stored, error) {
	cl, err := imapload.Conn{Addr: addr, StartTLS: true, Password: password}.Dial(user)
	if err != nil {
		return nil, err
	}
	defer cl.Close()
	var out []Stored
	section := &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader,
		HeaderFields: []string{"Return-Path", "X-Spam-Status"}, Peek: true}
	for _, mbox := range []string{"INBOX", "Junk"} {
		sel, err := cl.Select(mbox, nil).Wait()
		if err != nil {
			return nil, fmt.Errorf("SELECT %s: %w", mbox, err)
		}
		if sel.NumMessages == 0 {
			continue
		}
		var set imap.SeqSet
		set.AddRange(1, sel.NumMessages)
		msgs, err := cl.Fetch(set, &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		if err != nil {
			return nil, fmt.Errorf("FETCH %s 1:%d: %w", mbox, sel.NumMessages, err)
		}
		for _, msg := range msgs {
			s, err := ParseStored(msg.FindBodySection(section))
			if err != nil {
				return nil, fmt.Errorf("%s message %d: %w", mbox, msg.SeqNum, err)
			}
			s.Mailbox = mbox
			out = append(out, s)
		}
	}
	return out, nil
}

// ParseStored reads the Return-Path and X-Spam-Status fields of a
// header section.
func ParseStored(header []byte) (Stored, error) {
	var s Stored
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return s, fmt.Errorf("header section: %w", err)
	}
	rp := h.Values("Return-Path")
	if len(rp) == 0 {
		return s, fmt.Errorf("no Return-Path: %.200q", header)
	}
	s.Index, err = senderIndex(rp[0])
	if err != nil {
		return s, err
	}
	for _, v := range h.Values("X-Spam-Status") {
		st, err := ParseSpamStatus(v)
		if err != nil {
			return s, err
		}
		s.Status = append(s.Status, st)
	}
	return s, nil
}

// senderIndex reads INDEX from "<msg-INDEX@SenderDomain>".
func senderIndex(v string) (int, error) {
	addr, err := mail.ParseAddress(strings.TrimSpace(v))
	if err != nil {
		return 0, fmt.Errorf("Return-Path %q: %w", v, err)
	}
	local, domain, ok := strings.Cut(addr.Address, "@")
	n, err := strconv.Atoi(strings.TrimPrefix(local, "msg-"))
	if !ok || domain != SenderDomain || !strings.HasPrefix(local, "msg-") || err != nil || n < 0 {
		return 0, fmt.Errorf("Return-Path %q is not a bench sender", v)
	}
	return n, nil
}

// ParseSpamStatus reads an (unfolded) X-Spam-Status value: "Yes" or
// "No", a comma, then space-separated name=value pairs, of which score
// and required are kept.
func ParseSpamStatus(v string) (SpamStatus, error) {
	var st SpamStatus
	verdict, rest, _ := strings.Cut(strings.TrimSpace(v), ",")
	switch strings.ToLower(strings.TrimSpace(verdict)) {
	case "yes":
		st.Spam = true
	case "no":
	default:
		return st, fmt.Errorf("X-Spam-Status %q: neither Yes nor No", v)
	}
	for _, f := range strings.Fields(rest) {
		name, val, ok := strings.Cut(f, "=")
		if !ok {
			continue
		}
		switch strings.ToLower(name) {
		case "score":
			x, err := strconv.ParseFloat(val, 64)
			if err != nil {
				return st, fmt.Errorf("X-Spam-Status %q: score: %w", v, err)
			}
			st.Score, st.HasScore = x, true
		case "required":
			st.Required = val
		}
	}
	return st, nil
}
