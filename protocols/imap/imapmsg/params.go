package imapmsg

import (
	"slices"
	"strings"
)

// Param is one parameter of a Content-Type or Content-Disposition field
// (RFC 2045 §5.1, RFC 2183 §2): its attribute lowercased, as Dovecot
// answers it, and its value unquoted. Parameters keep the order of the
// field. RFC 2231 continuations are joined into one parameter, as Dovecot
// does, in the place of the first: "name*0", "name*1" become "name"; when
// the first section is charset-encoded ("name*0*"), the result is
// "name*" with the encoded sections as written and the plain ones
// percent-encoded (RFC 2231 §3, §4.1), for the client to decode.
type Param struct {
	Name, Value string
}

// contentValue reads a structured MIME field value (RFC 2045 §5.1 and
// RFC 2183 §2): its leading value (a token, or type "/" subtype) and
// parameters. Comments are skipped; what does not parse ends the
// parameters.
type contentValue struct {
	s string
	i int
}

// token reads a token (RFC 2045 §5.1) after optional CFWS.
func (c *contentValue) token() string {
	c.skipCFWS()
	start := c.i
	for c.i < len(c.s) && isToken(c.s[c.i]) {
		c.i++
	}
	return c.s[start:c.i]
}

// is reads the byte b after optional CFWS.
func (c *contentValue) is(b byte) bool {
	c.skipCFWS()
	if c.i < len(c.s) && c.s[c.i] == b {
		c.i++
		return true
	}
	return false
}

// params reads "; attribute=value" pairs to the end.
func (c *contentValue) params() []Param {
	var out []Param
	for c.i < len(c.s) {
		if !c.is(';') {
			// Junk before the next parameter: skip to it (Dovecot reads on).
			j := strings.IndexByte(c.s[c.i:], ';')
			if j < 0 {
				break
			}
			c.i += j + 1
		}
		name := c.token()
		if name == "" {
			continue
		}
		if !c.is('=') {
			continue
		}
		c.skipCFWS()
		var v string
		if c.i < len(c.s) && c.s[c.i] == '"' {
			v = c.quoted()
		} else {
			start := c.i
			// Lenient: a value runs to ';' or white space, so unquoted
			// values with '/' or '=' (forbidden tspecials, common in
			// the wild) are kept whole.
			for c.i < len(c.s) && c.s[c.i] != ';' && c.s[c.i] != ' ' && c.s[c.i] != '\t' {
				c.i++
			}
			v = c.s[start:c.i]
		}
		out = append(out, Param{Name: lower(name), Value: v})
	}
	return joinContinuations(out)
}

// joinContinuations joins the RFC 2231 §3 sections of each parameter.
func joinContinuations(ps []Param) []Param {
	if !slices.ContainsFunc(ps, func(p Param) bool { return strings.IndexByte(p.Name, '*') > 0 }) {
		return ps
	}
	type section struct {
		n       int
		value   string
		encoded bool
	}
	out := make([]Param, 0, len(ps))
	sections := map[string][]section{}
	at := map[string]int{}
	for _, p := range ps {
		base, n, encoded, ok := splitSection(p.Name)
		if !ok {
			out = append(out, p)
			continue
		}
		if _, seen := at[base]; !seen {
			at[base] = len(out)
			out = append(out, Param{Name: base})
		}
		sections[base] = append(sections[base], section{n, p.Value, encoded})
	}
	for base, secs := range sections {
		slices.SortStableFunc(secs, func(a, b section) int { return a.n - b.n })
		extended := secs[0].encoded
		var b strings.Builder
		for _, s := range secs {
			if extended && !s.encoded {
				percentEncode(&b, s.value)
			} else {
				b.WriteString(s.value)
			}
		}
		name := base
		if extended {
			name += "*"
		}
		out[at[base]] = Param{Name: name, Value: b.String()}
	}
	return out
}

// splitSection reads a sectioned parameter name "base*n" or "base*n*".
func splitSection(name string) (base string, n int, encoded, ok bool) {
	i := strings.IndexByte(name, '*')
	if i <= 0 {
		return "", 0, false, false
	}
	rest := name[i+1:]
	encoded = strings.HasSuffix(rest, "*")
	rest = strings.TrimSuffix(rest, "*")
	if rest == "" || len(rest) > 3 {
		// "name*" alone is one encoded value, not a section.
		return "", 0, false, false
	}
	for _, c := range rest {
		if c < '0' || c > '9' {
			return "", 0, false, false
		}
		n = n*10 + int(c-'0')
	}
	return name[:i], n, encoded, true
}

// percentEncode writes s with the octets an RFC 2231 extended value
// cannot hold as they are percent-encoded (RFC 2231 §7 attribute-char).
func percentEncode(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c > ' ' && c < 0x7f && !strings.ContainsRune(`*'%()<>@,;:\"/[]?=`, rune(c)) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
}

func (c *contentValue) quoted() string {
	c.i++
	start := c.i
	var b []byte
	for c.i < len(c.s) {
		ch := c.s[c.i]
		switch {
		case ch == '"':
			c.i++
			if b != nil {
				return string(b)
			}
			return c.s[start : c.i-1]
		case ch == '\\' && c.i+1 < len(c.s):
			if b == nil {
				b = append(b, c.s[start:c.i]...)
			}
			b = append(b, c.s[c.i+1])
			c.i += 2
			continue
		}
		if b != nil {
			b = append(b, ch)
		}
		c.i++
	}
	if b != nil {
		return string(b)
	}
	return c.s[start:]
}

func (c *contentValue) skipCFWS() {
	for c.i < len(c.s) {
		switch c.s[c.i] {
		case ' ', '\t', '\r', '\n':
			c.i++
		case '(':
			depth := 0
			for c.i < len(c.s) {
				ch := c.s[c.i]
				c.i++
				if ch == '\\' {
					c.i++
				} else if ch == '(' {
					depth++
				} else if ch == ')' {
					if depth--; depth == 0 {
						break
					}
				}
			}
			c.i = min(c.i, len(c.s))
		default:
			return
		}
	}
}

// isToken reports whether b is a token character (RFC 2045 §5.1).
func isToken(b byte) bool { return tokenChars[b] }

var tokenChars = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c > ' ' && c < 0x7f && !strings.ContainsRune(`()<>@,;:\"/[]?=`, rune(c))
	}
	return t
}()

// lower is strings.ToLower without an allocation for a string already
// lower case.
func lower(s string) string {
	for i := 0; i < len(s); i++ {
		if 'A' <= s[i] && s[i] <= 'Z' {
			return strings.ToLower(s)
		}
	}
	return s
}

// paramValue is the value of the parameter name in ps, and whether it is
// there.
func paramValue(ps []Param, name string) (string, bool) {
	for _, p := range ps {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}
