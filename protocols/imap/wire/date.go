package wire

import (
	"strings"
	"time"
)

var months = [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"}

// Date reads a date (RFC 9051 §9: date-text, optionally quoted), as SEARCH
// SINCE/BEFORE/ON take it. The result is midnight UTC of that day.
func (d *Decoder) Date() (time.Time, error) {
	b, err := d.peek()
	if err != nil {
		return time.Time{}, err
	}
	var s string
	if b == '"' {
		s, err = d.Quoted()
	} else {
		s, err = d.readWhile(isAtomChar)
	}
	if err != nil {
		return time.Time{}, err
	}
	t, ok := parseDate(s)
	if !ok {
		return time.Time{}, syntaxf("Invalid date %q", s)
	}
	return t, nil
}

// DateTime reads a date-time (RFC 9051 §9: "dd-Mon-yyyy hh:mm:ss +zzzz",
// quoted; a one-digit day is accepted with or without its leading space).
func (d *Decoder) DateTime() (time.Time, error) {
	b, err := d.peek()
	if err != nil {
		return time.Time{}, err
	}
	if b != '"' {
		return time.Time{}, syntaxf("Expected a quoted date-time, got %s", describe(b))
	}
	s, err := d.Quoted()
	if err != nil {
		return time.Time{}, err
	}
	t, ok := ParseDateTime(s)
	if !ok {
		return time.Time{}, syntaxf("Invalid date-time %q", s)
	}
	return t, nil
}

// ParseDateTime parses the text of an IMAP date-time (without quotes).
func ParseDateTime(s string) (time.Time, bool) {
	s = strings.TrimPrefix(s, " ")
	date, rest, ok := strings.Cut(s, " ")
	if !ok {
		return time.Time{}, false
	}
	day, ok := parseDate(date)
	if !ok {
		return time.Time{}, false
	}
	clock, zone, ok := strings.Cut(rest, " ")
	if !ok || len(clock) != 8 || clock[2] != ':' || clock[5] != ':' || len(zone) != 5 {
		return time.Time{}, false
	}
	h, ok1 := digits(clock[0:2])
	m, ok2 := digits(clock[3:5])
	sec, ok3 := digits(clock[6:8])
	zh, ok4 := digits(zone[1:3])
	zm, ok5 := digits(zone[3:5])
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || h > 23 || m > 59 || sec > 60 || zm > 59 {
		return time.Time{}, false
	}
	if sec == 60 { // a leap second is kept within its minute
		sec = 59
	}
	off := (zh*60 + zm) * 60
	switch zone[0] {
	case '+':
	case '-':
		off = -off
	default:
		return time.Time{}, false
	}
	loc := time.FixedZone("", off)
	return time.Date(day.Year(), day.Month(), day.Day(), h, m, sec, 0, loc), true
}

// parseDate parses date-text: 1*2DIGIT "-" Mon "-" 4DIGIT.
func parseDate(s string) (time.Time, bool) {
	parts := strings.Split(s, "-")
	if len(parts) != 3 || len(parts[0]) < 1 || len(parts[0]) > 2 || len(parts[2]) != 4 {
		return time.Time{}, false
	}
	day, ok1 := digits(parts[0])
	year, ok2 := digits(parts[2])
	if !ok1 || !ok2 || day < 1 {
		return time.Time{}, false
	}
	mon := 0
	for i, m := range months {
		if strings.EqualFold(m, parts[1]) {
			mon = i + 1
		}
	}
	if mon == 0 {
		return time.Time{}, false
	}
	t := time.Date(year, time.Month(mon), day, 0, 0, 0, 0, time.UTC)
	if t.Day() != day { // 31-Feb
		return time.Time{}, false
	}
	return t, true
}

func digits(s string) (int, bool) {
	if s == "" {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	return n, true
}

// FormatDateTime formats t as an IMAP date-time without quotes
// (RFC 9051 §9: date-day-fixed is space-padded).
func FormatDateTime(t time.Time) string {
	return t.Format("_2-Jan-2006 15:04:05 -0700")
}

// FormatDate formats t as date-text ("2-Jan-2006").
func FormatDate(t time.Time) string {
	return t.Format("2-Jan-2006")
}
