package imapmsg

import "strings"

// Param is one parameter of a Content-Type or Content-Disposition field
// (RFC 2045 §5.1, RFC 2183 §2): its attribute lowercased, as Dovecot
// answers it, and its value unquoted. Parameters keep the order of the
// field; RFC 2231 continuations and charsets are left as written (a
// client reads "filename*0*" itself).
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
	return out
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
