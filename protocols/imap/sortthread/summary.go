package sortthread

import (
	"net/mail"
	"strings"
	"time"
)

// Summary is what SORT and THREAD need of one message's header, computed
// once (Summarize) and then only read: it may be cached with the header
// it comes from and shared.
type Summary struct {
	// Sent is the sent date (RFC 5256 §2.2) in Unix seconds, UTC; HasSent
	// is false when the Date field is missing or does not parse, and the
	// internal date stands in for it.
	Sent    int64
	HasSent bool
	// Subject is the base subject (RFC 5256 §2.1), collated; Reply says
	// whether extracting it removed a reply or forward marker.
	Subject string
	Reply   bool
	// From, To and Cc are the collated addr-mailbox of each field's first
	// address (RFC 5256 §3); DisplayFrom and DisplayTo the collated
	// display name or addr-spec (RFC 5957 §3). Empty when there is none.
	From, To, Cc           string
	DisplayFrom, DisplayTo string
	// MessageID is the message's own identifier (empty: none valid), and
	// References its parents from the References field, oldest first, or
	// the first valid In-Reply-To identifier when References has none
	// (RFC 5256 §3, REFERENCES step 1).
	MessageID  string
	References []string
}

// maxReferences bounds the identifiers kept from one References field:
// the last ones are the ones that place the message.
const maxReferences = 256

// Summarize computes the Summary of a message from its header block.
func Summarize(header []byte) *Summary {
	return SummarizeFields(ParseFields(header))
}

// SummarizeFields computes the Summary of a message from its fields.
func SummarizeFields(f Fields) *Summary {
	s := &Summary{}
	s.Sent, s.HasSent = SentDate(f.Date)
	base, reply := BaseSubject(f.Subject)
	s.Subject, s.Reply = Collate(base), reply
	from, fromOK := FirstAddress(f.From)
	to, toOK := FirstAddress(f.To)
	cc, _ := FirstAddress(f.Cc)
	s.From, s.To, s.Cc = Collate(from.Mailbox), Collate(to.Mailbox), Collate(cc.Mailbox)
	s.DisplayFrom, s.DisplayTo = Collate(displayKey(from, fromOK)), Collate(displayKey(to, toOK))
	if ids := MessageIDs(f.MessageID, 1); len(ids) > 0 {
		s.MessageID = ids[0]
	}
	refs := MessageIDs(f.References, 0)
	if len(refs) == 0 {
		refs = MessageIDs(f.InReplyTo, 1)
	}
	if len(refs) > maxReferences {
		refs = refs[len(refs)-maxReferences:]
	}
	s.References = refs
	return s
}

// SentDate parses a Date field (RFC 5256 §2.2): the date and time in UTC.
// A zone that does not parse is taken as UTC, a time that does not parse
// as 00:00:00. ok is false when no date can be found at all.
func SentDate(value string) (unix int64, ok bool) {
	value = strings.TrimSpace(value)
	if value == "" {
		return 0, false
	}
	if t, err := mail.ParseDate(value); err == nil {
		return t.Unix(), true
	}
	// Lenient: drop comments and a weekday, then read day, month, year,
	// and the time if it parses.
	f := strings.Fields(stripComments(value))
	if len(f) > 0 && strings.HasSuffix(f[0], ",") {
		f = f[1:]
	} else if len(f) > 0 && len(f[0]) == 3 && isWeekday(f[0]) {
		f = f[1:]
	}
	if len(f) < 3 {
		return 0, false
	}
	d, err := time.Parse("2 Jan 2006", strings.Join(f[:3], " "))
	if err != nil {
		return 0, false
	}
	if len(f) > 3 {
		for _, layout := range []string{"15:04:05", "15:04"} {
			if t, err := time.Parse(layout, f[3]); err == nil {
				d = d.Add(time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute + time.Duration(t.Second())*time.Second)
				break
			}
		}
	}
	return d.Unix(), true
}

func isWeekday(s string) bool {
	switch strings.ToLower(s) {
	case "mon", "tue", "wed", "thu", "fri", "sat", "sun":
		return true
	}
	return false
}

func stripComments(s string) string {
	if !strings.Contains(s, "(") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); {
		if s[i] == '(' {
			i = skipComment(s, i)
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(s[i])
		i++
	}
	return b.String()
}
