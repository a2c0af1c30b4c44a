package mtasts

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Mode is a policy's mode (RFC 8461 §5).
type Mode string

const (
	// Enforce: deliver only to MX hosts that match the policy and
	// present a valid certificate for their name over TLS.
	Enforce Mode = "enforce"
	// Testing: deliver as without a policy, and report what would have
	// failed (RFC 8460).
	Testing Mode = "testing"
	// None: the domain has withdrawn its policy.
	None Mode = "none"
)

// ParseMode reads enforce, testing or none.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case Enforce, Testing, None:
		return m, nil
	}
	return "", fmt.Errorf("mta-sts: mode %q: want enforce, testing or none", s)
}

// MaxMaxAge is the largest max_age a policy may give: one year (RFC 8461
// §3.2, "up to 31557600").
const MaxMaxAge = 31557600 * time.Second

// MaxPolicySize bounds the policy body a fetch reads: RFC 8461 §3.3 lets
// senders limit it; 64 KiB is what it suggests.
const MaxPolicySize = 64 << 10

// Policy is a parsed policy file (RFC 8461 §3.2).
type Policy struct {
	Mode   Mode
	MX     []string // patterns: "mail.example.com" or "*.example.com"
	MaxAge time.Duration
	// Text is the policy as published, one "key: value" a line (RFC
	// 8460 §4.4 reports it as policy-string).
	Text []string
}

// Parse reads a policy file (RFC 8461 §3.2): "key: value" lines separated
// by CRLF or LF; version, mode and max_age are required, mx at least once
// unless the mode is none; unknown keys are ignored (§3.2 allows
// extensions).
func Parse(b []byte) (*Policy, error) {
	if len(b) > MaxPolicySize {
		return nil, fmt.Errorf("mta-sts: policy of %d bytes exceeds %d", len(b), MaxPolicySize)
	}
	p := &Policy{}
	var haveVersion, haveAge bool
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 0, 1024), MaxPolicySize+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue // a trailing empty line (§3.2 ABNF ends lines with CRLF)
		}
		key, value, ok := strings.Cut(line, ":")
		if !ok {
			return nil, fmt.Errorf("mta-sts: policy line %d: no \"key:\"", n)
		}
		// §3.2 ABNF: sts-policy-field-delim is ":" *WSP; trailing WSP is
		// allowed too.
		key, value = strings.TrimSpace(key), strings.Trim(value, " \t")
		p.Text = append(p.Text, key+": "+value)
		switch key {
		case "version":
			if haveVersion {
				return nil, errors.New("mta-sts: policy gives version twice")
			}
			if value != "STSv1" {
				return nil, fmt.Errorf("mta-sts: policy version %q, want STSv1", value)
			}
			haveVersion = true
		case "mode":
			if p.Mode != "" {
				return nil, errors.New("mta-sts: policy gives mode twice")
			}
			m, err := ParseMode(value)
			if err != nil {
				return nil, err
			}
			p.Mode = m
		case "max_age":
			if haveAge {
				return nil, errors.New("mta-sts: policy gives max_age twice")
			}
			// §3.2: 1*10DIGIT, at most 31557600.
			if value == "" || len(value) > 10 || strings.Trim(value, "0123456789") != "" {
				return nil, fmt.Errorf("mta-sts: max_age %q is not a number of seconds", value)
			}
			secs, err := strconv.ParseInt(value, 10, 64)
			if err != nil || secs > int64(MaxMaxAge/time.Second) {
				return nil, fmt.Errorf("mta-sts: max_age %q exceeds %d", value, int64(MaxMaxAge/time.Second))
			}
			p.MaxAge, haveAge = time.Duration(secs)*time.Second, true
		case "mx":
			pat := strings.ToLower(strings.TrimSuffix(value, "."))
			if !validPattern(pat) {
				return nil, fmt.Errorf("mta-sts: mx %q is not a host name or *.domain pattern", value)
			}
			p.MX = append(p.MX, pat)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("mta-sts: policy: %w", err)
	}
	switch {
	case !haveVersion:
		return nil, errors.New("mta-sts: policy has no version")
	case p.Mode == "":
		return nil, errors.New("mta-sts: policy has no mode")
	case !haveAge:
		return nil, errors.New("mta-sts: policy has no max_age")
	case len(p.MX) == 0 && p.Mode != None:
		return nil, errors.New("mta-sts: policy has no mx")
	}
	return p, nil
}

// validPattern: a host name, or "*." and a host name (RFC 8461 §3.2:
// "mx-pattern = (["*."] mx-hostname)" is how §4.1 reads it).
func validPattern(p string) bool {
	p = strings.TrimPrefix(p, "*.")
	if p == "" || len(p) > 253 {
		return false
	}
	for _, label := range strings.Split(p, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Matches reports whether the MX host name matches one of the policy's
// mx patterns (RFC 8461 §4.1): exactly, or "*.example.com" for one more
// label on the left ("mail.example.com", not "a.b.example.com" nor
// "example.com").
func (p *Policy) Matches(host string) bool {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, pat := range p.MX {
		if suffix, ok := strings.CutPrefix(pat, "*."); ok {
			label, rest, found := strings.Cut(host, ".")
			if found && label != "" && rest == suffix {
				return true
			}
			continue
		}
		if host == pat {
			return true
		}
	}
	return false
}

// Format writes a policy file (RFC 8461 §3.2) with CRLF line endings.
func Format(mode Mode, mx []string, maxAge time.Duration) []byte {
	var b bytes.Buffer
	b.WriteString("version: STSv1\r\n")
	b.WriteString("mode: " + string(mode) + "\r\n")
	for _, m := range mx {
		b.WriteString("mx: " + m + "\r\n")
	}
	fmt.Fprintf(&b, "max_age: %d\r\n", int64(maxAge/time.Second))
	return b.Bytes()
}

// Record is a parsed _mta-sts TXT record (RFC 8461 §3.1).
type Record struct {
	ID string
}

// ParseRecord reads "v=STSv1; id=...;" (RFC 8461 §3.1): v first, then
// fields separated by ";", id of 1 to 32 letters and digits; unknown
// fields are ignored.
func ParseRecord(txt string) (Record, error) {
	fields := strings.Split(txt, ";")
	if strings.TrimSpace(fields[0]) != "v=STSv1" {
		return Record{}, fmt.Errorf("mta-sts: record %q does not start with v=STSv1", txt)
	}
	var r Record
	for _, f := range fields[1:] {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		k, v, ok := strings.Cut(f, "=")
		if !ok {
			return Record{}, fmt.Errorf("mta-sts: record field %q has no \"=\"", f)
		}
		if k == "id" {
			if r.ID != "" {
				return Record{}, errors.New("mta-sts: record gives id twice")
			}
			if v == "" || len(v) > 32 || strings.Trim(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") != "" {
				return Record{}, fmt.Errorf("mta-sts: record id %q: want 1 to 32 letters and digits", v)
			}
			r.ID = v
		}
	}
	if r.ID == "" {
		return Record{}, errors.New("mta-sts: record has no id")
	}
	return r, nil
}
