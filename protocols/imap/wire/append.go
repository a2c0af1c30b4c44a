package wire

import (
	"time"

	"github.com/emersion/go-imap/v2"
)

// APPEND is read in steps, because its message data is streamed by the
// dispatcher rather than read by the decoder:
//
//	mbox, err := dec.ReadAppendMailbox()
//	for {
//		m, err := dec.NextAppendMessage()   // nil at the end of the command
//		if m == nil { break }
//		if m.Catenate {
//			for { p, err := dec.NextCatenatePart(); if p == nil { break } ... }
//			continue
//		}
//		// check m.Literal.Size against APPENDLIMIT (RFC 7889: NO [TOOBIG]
//		// before the continuation; Discard then skips the command)
//		r, err := dec.AcceptLiteral()     // "+ Ready" for a synchronising one
//		... read r to its end
//	}
//
// Grammar (RFC 9051 §6.3.12, RFC 3502 MULTIAPPEND, RFC 4469 CATENATE,
// RFC 6855 §4 UTF8, RFC 3516 literal8):
//
//	append = "APPEND" SP mailbox 1*append-message
//	append-message = SP [flag-list SP] [date-time SP] append-data
//	append-data = literal / literal8 / "CATENATE" SP "(" cat-part *(SP cat-part) ")"
//	              / "UTF8" SP "(" literal8 ")"
//	cat-part = "TEXT" SP (literal / literal8) / "URL" SP astring

// AppendMessage is one message of an APPEND.
type AppendMessage struct {
	Flags []imap.Flag // nil if not given
	Time  time.Time   // zero if not given
	// Literal is the message data's header; its data is not read yet
	// (AcceptLiteral reads it). Unused with Catenate.
	Literal Literal
	// UTF8 marks RFC 6855's "UTF8 (~{n})" form.
	UTF8 bool
	// Catenate marks RFC 4469's CATENATE: its parts come from
	// NextCatenatePart.
	Catenate bool
}

// CatenatePart is one part of a CATENATE: a URL (RFC 4469 §3, an IMAP URL
// to fetch from), or a TEXT literal whose header is in Literal and whose
// data AcceptLiteral reads.
type CatenatePart struct {
	URL     string
	Text    bool
	Literal Literal
}

// appendState follows an APPEND between the dispatcher's calls.
type appendState struct {
	messages  int
	closeUTF8 bool // a ")" follows the current message's literal8
	catenate  int  // 1: a CATENATE list just opened; 2: after one of its parts
}

// ReadAppendMailbox reads SP mailbox, the start of APPEND's arguments.
func (d *Decoder) ReadAppendMailbox() (string, error) {
	d.app = appendState{}
	if err := d.SP(); err != nil {
		return "", err
	}
	return d.Mailbox()
}

// NextAppendMessage reads the next message's options and the header of
// its data, or, after the last message, the end of the command (and
// returns nil).
func (d *Decoder) NextAppendMessage() (*AppendMessage, error) {
	if d.app.catenate != 0 {
		return nil, syntaxf("CATENATE parts not read")
	}
	if d.app.closeUTF8 {
		d.app.closeUTF8 = false
		if err := d.Expect(')'); err != nil {
			return nil, err
		}
	}
	if d.app.messages > 0 {
		end, err := d.AtEnd()
		if err != nil {
			return nil, err
		}
		if end {
			return nil, d.End()
		}
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	d.app.messages++
	m := &AppendMessage{}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b == '(' {
		if m.Flags, err = d.FlagList(); err != nil {
			return nil, err
		}
		if m.Flags == nil {
			m.Flags = []imap.Flag{}
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		if b, err = d.peek(); err != nil {
			return nil, err
		}
	}
	if b == '"' {
		if m.Time, err = d.DateTime(); err != nil {
			return nil, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		if b, err = d.peek(); err != nil {
			return nil, err
		}
	}
	if b == '{' || b == '~' {
		m.Literal, err = d.LiteralHeader()
		return m, err
	}
	kw, err := d.Keyword()
	if err != nil {
		return nil, err
	}
	switch kw {
	case "CATENATE":
		if err := d.SP(); err != nil {
			return nil, err
		}
		if err := d.Expect('('); err != nil {
			return nil, err
		}
		m.Catenate = true
		d.app.catenate = 1
		return m, nil
	case "UTF8":
		if err := d.SP(); err != nil {
			return nil, err
		}
		if err := d.Expect('('); err != nil {
			return nil, err
		}
		m.UTF8 = true
		if m.Literal, err = d.LiteralHeader(); err != nil {
			return nil, err
		}
		if !m.Literal.Binary {
			return nil, syntaxf("UTF8 data must be a literal8")
		}
		d.app.closeUTF8 = true
		return m, nil
	}
	return nil, syntaxf("Expected message data, got %s", kw)
}

// NextCatenatePart reads the next part of a CATENATE, or its closing ")"
// (and returns nil).
func (d *Decoder) NextCatenatePart() (*CatenatePart, error) {
	switch d.app.catenate {
	case 0:
		return nil, syntaxf("Not in CATENATE")
	case 2:
		end, err := d.listNext("CATENATE")
		if err != nil {
			return nil, err
		}
		if end {
			d.app.catenate = 0
			return nil, nil
		}
	}
	d.app.catenate = 2
	kw, err := d.Keyword()
	if err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	switch kw {
	case "TEXT":
		l, err := d.LiteralHeader()
		return &CatenatePart{Text: true, Literal: l}, err
	case "URL":
		u, err := d.Astring()
		if err != nil {
			return nil, err
		}
		return &CatenatePart{URL: u}, nil
	}
	return nil, syntaxf("Unknown CATENATE part %s", kw)
}
