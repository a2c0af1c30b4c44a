package sieve

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// validDatePart lists the date-parts of RFC 5260 §4.2.
func validDatePart(p string) bool {
	switch p {
	case "year", "month", "day", "date", "julian", "hour", "minute", "second",
		"time", "iso8601", "std11", "zone", "weekday":
		return true
	}
	return false
}

// parseZone parses "+hhmm"/"-hhmm" (RFC 5260 §4.1).
func parseZone(z string) (*time.Location, bool) {
	if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
		return nil, false
	}
	h, err1 := strconv.Atoi(z[1:3])
	m, err2 := strconv.Atoi(z[3:5])
	if err1 != nil || err2 != nil || h > 23 || m > 59 {
		return nil, false
	}
	off := h*3600 + m*60
	if z[0] == '-' {
		off = -off
	}
	return time.FixedZone(z, off), true
}

// datePart extracts a date-part from a time (RFC 5260 §4.2).
func datePart(t time.Time, part string) string {
	switch part {
	case "year":
		return fmt.Sprintf("%04d", t.Year())
	case "month":
		return fmt.Sprintf("%02d", int(t.Month()))
	case "day":
		return fmt.Sprintf("%02d", t.Day())
	case "date":
		return t.Format("2006-01-02")
	case "julian":
		// Modified Julian Day: days since 1858-11-17.
		epoch := time.Date(1858, 11, 17, 0, 0, 0, 0, time.UTC)
		d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		return strconv.Itoa(int(d.Sub(epoch).Hours() / 24))
	case "hour":
		return fmt.Sprintf("%02d", t.Hour())
	case "minute":
		return fmt.Sprintf("%02d", t.Minute())
	case "second":
		return fmt.Sprintf("%02d", t.Second())
	case "time":
		return t.Format("15:04:05")
	case "iso8601":
		return t.Format("2006-01-02T15:04:05-07:00")
	case "std11":
		return t.Format("Mon, 02 Jan 2006 15:04:05 -0700")
	case "zone":
		return t.Format("-0700")
	case "weekday":
		return strconv.Itoa(int(t.Weekday()))
	}
	return ""
}

// dateTest runs date and currentdate (RFC 5260 §4, §5). A date field
// that is missing or does not parse makes the test false (except
// :count, which counts nothing).
func (st *state) dateTest(f *frame, o *op) (bool, error) {
	part, err := f.str(st, o.pos[len(o.pos)-2])
	if err != nil {
		return false, &RuntimeError{Line: o.line, Err: err}
	}
	part = strings.ToLower(part)
	if !validDatePart(part) {
		return false, &RuntimeError{Line: o.line, Err: fmt.Errorf("unknown date part %q", part)}
	}
	// RFC 5260 §4.1: without :zone the local zone applies; the
	// server's local zone is Env.Now's location.
	loc := st.env.Now.Location()
	if a, ok := o.tags["zone"]; ok {
		z, err := f.str(st, a)
		if err != nil {
			return false, &RuntimeError{Line: o.line, Err: err}
		}
		l, ok := parseZone(z)
		if !ok {
			return false, nil
		}
		loc = l
	}
	var times []time.Time
	if o.name == "currentdate" {
		times = []time.Time{st.env.Now.In(loc)}
	} else {
		name, err := f.str(st, o.pos[0])
		if err != nil {
			return false, &RuntimeError{Line: o.line, Err: err}
		}
		for _, v := range st.headerValues(f, o, []string{name}, false) {
			// RFC 5260 §4: the value is an RFC 5322 date-time, optionally
			// after the last ";" (Received).
			if i := strings.LastIndexByte(v, ';'); i >= 0 {
				v = v[i+1:]
			}
			t, err := mail.ParseDate(strings.TrimSpace(v))
			if err != nil {
				continue
			}
			if !o.has("originalzone") {
				t = t.In(loc)
			}
			times = append(times, t)
		}
	}
	values := make([]string, 0, len(times))
	for _, t := range times {
		values = append(values, datePart(t, part))
	}
	return st.match(f, o, values, f.strs(st, o.pos[len(o.pos)-1]))
}
