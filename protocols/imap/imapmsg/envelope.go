package imapmsg

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// NString is an IMAP nstring (RFC 9051 §4.5): a string, or NIL when Valid
// is false. The zero NString is NIL.
type NString struct {
	Value string
	Valid bool
}

// Str is the nstring holding s.
func Str(s string) NString { return NString{Value: s, Valid: true} }

// Envelope is a message's ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2), as
// Dovecot answers it: Date, Subject, In-Reply-To and Message-ID are the
// header values raw (unfolded, RFC 2047 encoded words kept), NIL when the
// field is absent; each address list is nil (NIL) when its field is
// absent or holds no address.
//
// go-imap's imap.Envelope does not serve here: it holds the date parsed
// (the Date field as written is lost), the subject decoded, and addresses
// without their route (RFC 5322 §4.4 obs-route), all of which the ENVELOPE
// returns as written. IMAP converts.
type Envelope struct {
	Date, Subject         NString
	From, Sender, ReplyTo []Address
	To, Cc, Bcc           []Address
	InReplyTo, MessageID  NString
}

// Address is one address of an ENVELOPE address list (RFC 9051 §7.5.2):
// Name is the display name (or the comment after a bare addr-spec), Route
// the obsolete source route ("@a,@b"), Mailbox the local part and Host the
// domain; "" is NIL. A group (RFC 5322 §3.4) is a start marker, with the
// group's name in Mailbox and no Host, then its members, then an end
// marker with every field empty.
type Address struct {
	Name, Route, Mailbox, Host string
}

// What Dovecot names a mailbox or domain missing from an address that has
// the other.
const (
	MissingMailbox = "MISSING_MAILBOX"
	MissingDomain  = "MISSING_DOMAIN"
)

// IsGroupStart reports whether a is the marker starting a group.
func (a Address) IsGroupStart() bool { return a.Host == "" && a.Mailbox != "" }

// IsGroupEnd reports whether a is the marker ending a group.
func (a Address) IsGroupEnd() bool { return a == Address{} }

// ParseEnvelope computes the ENVELOPE of the message whose header block
// (or whole bytes: parsing stops at the blank line) is header. Of fields
// that repeat, the last counts, as in Dovecot. The subject and display
// names have their white space collapsed to single spaces and trimmed, as
// Dovecot writes text "for humans"; the other strings are the unfolded
// values.
//
// The strings it returns share one copy of the header's text: an
// Envelope kept (the header cache keeps one per message) holds that copy,
// not header.
func ParseEnvelope(header []byte) *Envelope {
	h := headerString(header[:HeaderEnd(header)])
	env := &Envelope{}
	// The raw values of From, Sender, Reply-To, To, Cc and Bcc.
	var addrs [6]string
	for i := 0; ; {
		f, next, ok := nextField(h, i)
		if !ok {
			break
		}
		i = next
		switch field := envelopeField(f.name); field {
		case fieldNone:
		case fieldDate:
			env.Date = Str(value(f.value))
		case fieldSubject:
			env.Subject = Str(humanText(value(f.value)))
		case fieldInReplyTo:
			env.InReplyTo = Str(value(f.value))
		case fieldMessageID:
			env.MessageID = Str(value(f.value))
		default:
			addrs[field-fieldFrom] = f.value
		}
	}
	var ap addrParser
	env.From = ap.list(addrs[0])
	env.Sender = ap.list(addrs[1])
	env.ReplyTo = ap.list(addrs[2])
	env.To = ap.list(addrs[3])
	env.Cc = ap.list(addrs[4])
	env.Bcc = ap.list(addrs[5])
	// RFC 3501 §7.4.2, RFC 9051 §7.5.2: a Sender or Reply-To that is absent
	// or empty is the From.
	if env.Sender == nil {
		env.Sender = env.From
	}
	if env.ReplyTo == nil {
		env.ReplyTo = env.From
	}
	return env
}

type envField int

// The fields the ENVELOPE reads; the address fields in the order of
// ParseEnvelope's addrs.
const (
	fieldNone envField = iota
	fieldDate
	fieldSubject
	fieldInReplyTo
	fieldMessageID
	fieldFrom
	fieldSender
	fieldReplyTo
	fieldTo
	fieldCc
	fieldBcc
)

// envelopeField is the envelope field a header field name is, ASCII
// case-insensitively; fieldNone for the others.
func envelopeField(name string) envField {
	// Dispatch on length first: most fields of a header are not these.
	switch len(name) {
	case 2:
		if isName(name, "To") {
			return fieldTo
		}
		if isName(name, "Cc") {
			return fieldCc
		}
	case 3:
		if isName(name, "Bcc") {
			return fieldBcc
		}
	case 4:
		if isName(name, "Date") {
			return fieldDate
		}
		if isName(name, "From") {
			return fieldFrom
		}
	case 6:
		if isName(name, "Sender") {
			return fieldSender
		}
	case 7:
		if isName(name, "Subject") {
			return fieldSubject
		}
	case 8:
		if isName(name, "Reply-To") {
			return fieldReplyTo
		}
	case 10:
		if isName(name, "Message-ID") {
			return fieldMessageID
		}
	case 11:
		if isName(name, "In-Reply-To") {
			return fieldInReplyTo
		}
	}
	return fieldNone
}

// humanText is s with each run of white space (SP, HT, CR, LF) one space
// and none at either end: Dovecot's form of text for humans (a subject, a
// display name).
func humanText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\t', '\r', '\n':
			clean = false
		case ' ':
			if i == 0 || i == len(s)-1 || s[i-1] == ' ' {
				clean = false
			}
		}
		if !clean {
			break
		}
	}
	if clean {
		return s
	}
	b := make([]byte, 0, len(s))
	space := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\r', '\n':
			space = len(b) > 0
		default:
			if space {
				b = append(b, ' ')
				space = false
			}
			b = append(b, c)
		}
	}
	return string(b)
}

// IMAP converts e to go-imap's form, for code that reads envelopes through
// go-imap's types: the subject and names are decoded from RFC 2047 where
// they decode, the date parsed (zero when it does not parse), message ids
// stripped of their angle brackets, routes dropped.
func (e *Envelope) IMAP() *imap.Envelope {
	out := &imap.Envelope{
		Subject:   decodeWords(e.Subject.Value),
		From:      imapAddresses(e.From),
		Sender:    imapAddresses(e.Sender),
		ReplyTo:   imapAddresses(e.ReplyTo),
		To:        imapAddresses(e.To),
		Cc:        imapAddresses(e.Cc),
		Bcc:       imapAddresses(e.Bcc),
		MessageID: strings.Trim(e.MessageID.Value, "<>"),
	}
	if e.Date.Valid {
		out.Date = parseDate(e.Date.Value)
	}
	for _, id := range strings.Fields(e.InReplyTo.Value) {
		if id = strings.Trim(id, "<>"); id != "" {
			out.InReplyTo = append(out.InReplyTo, id)
		}
	}
	return out
}

func imapAddresses(list []Address) []imap.Address {
	if list == nil {
		return nil
	}
	out := make([]imap.Address, len(list))
	for i, a := range list {
		out[i] = imap.Address{Name: decodeWords(a.Name), Mailbox: a.Mailbox, Host: a.Host}
	}
	return out
}
