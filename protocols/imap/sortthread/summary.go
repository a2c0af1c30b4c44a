package sortthread

import (
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

// SentDate parses a Date field (RFC 5256 §2.2, RFC 5322 §3.3 with its
// obsolete forms): the date and time in UTC. A zone that does not parse
// is taken as UTC, a time that does not parse as 00:00:00. ok is false
// when no date can be found at all.
func SentDate(value string) (unix int64, ok bool) {
	f := strings.Fields(stripComments(value))
	// An optional day of the week, "Tue," or "Tue ,".
	if len(f) > 0 {
		if day, _ := strings.CutSuffix(f[0], ","); isWeekday(day) {
			f = f[1:]
		} else if i := strings.IndexByte(f[0], ','); i > 0 && isWeekday(f[0][:i]) {
			f[0] = f[0][i+1:]
		}
	}
	if len(f) > 0 && f[0] == "," {
		f = f[1:]
	}
	if len(f) < 3 {
		return 0, false
	}
	day, ok1 := atoiRange(f[0], 1, 31)
	month, ok2 := monthOf(f[1])
	year, ok3 := atoiRange(f[2], 0, 9999)
	if !ok1 || !ok2 || !ok3 {
		return 0, false
	}
	// RFC 5322 §4.3: two-digit years are 1950-2049, three-digit ones
	// count from 1900.
	switch {
	case len(f[2]) == 2 && year < 50:
		year += 2000
	case len(f[2]) <= 3:
		year += 1900
	}
	var hour, minute, sec int
	offset := 0
	if len(f) > 3 {
		parts := strings.Split(f[3], ":")
		var okH, okM, okS bool
		hour, okH = atoiRange(parts[0], 0, 23)
		okS = true
		if len(parts) >= 2 {
			minute, okM = atoiRange(parts[1], 0, 59)
		}
		if len(parts) == 3 {
			sec, okS = atoiRange(parts[2], 0, 60)
		}
		if !okH || !okM || !okS || len(parts) > 3 {
			hour, minute, sec = 0, 0, 0
		}
		if len(f) > 4 {
			offset = zoneOffset(f[4])
		}
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, 0, time.UTC)
	return t.Unix() - int64(offset), true
}

// atoiRange parses a decimal number of at most 4 digits within [lo, hi].
func atoiRange(s string, lo, hi int) (int, bool) {
	if s == "" || len(s) > 4 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, n >= lo && n <= hi
}

var months = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

func monthOf(s string) (int, bool) {
	if len(s) < 3 {
		return 0, false
	}
	for i, m := range months {
		if strings.EqualFold(s[:3], m) {
			return i + 1, true
		}
	}
	return 0, false
}

// zoneOffset is the offset east of UTC of a zone (RFC 5322 §3.3, §4.3):
// "+hhmm"/"-hhmm" or an obsolete name; anything else is UTC (RFC 5256
// §2.2).
func zoneOffset(z string) int {
	if len(z) == 5 && (z[0] == '+' || z[0] == '-') {
		h, okH := atoiRange(z[1:3], 0, 99)
		m, okM := atoiRange(z[3:5], 0, 59)
		if !okH || !okM {
			return 0
		}
		off := h*3600 + m*60
		if z[0] == '-' {
			off = -off
		}
		return off
	}
	switch strings.ToUpper(z) {
	case "EDT":
		return -4 * 3600
	case "EST", "CDT":
		return -5 * 3600
	case "CST", "MDT":
		return -6 * 3600
	case "MST", "PDT":
		return -7 * 3600
	case "PST":
		return -8 * 3600
	}
	return 0 // UT, GMT, military zones (§4.3: treat as -0000), unknown
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
