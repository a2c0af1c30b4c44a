package arc

import (
	"errors"
	"strings"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// MethodResult is one result of an ARC-Authentication-Results field: a
// resinfo of RFC 8601 §2.2 ("dmarc=pass header.from=example.org").
type MethodResult struct {
	Method string // lower case: "spf", "dkim", "dmarc", "arc", ...
	Result string // lower case: "pass", "fail", "none", ...
	Reason string // the reason= value, if any
	// Props maps "ptype.property" (lower case) to its value, e.g.
	// "header.from" to "example.org". A property given twice keeps the
	// first value.
	Props map[string]string
}

// parseAAR splits an ARC-Authentication-Results value into its instance
// and its payload (RFC 8617 §4.1.1):
//
//	arc-info = instance [CFWS] ";" authres-payload
//	instance = [CFWS] %s"i" [CFWS] "=" [CFWS] instance-value
func parseAAR(value string) (instance int, payload string, err error) {
	s := strings.TrimLeft(stripComments(value), " \t\r\n")
	if !strings.HasPrefix(s, "i") {
		return 0, "", errors.New("ARC-Authentication-Results does not start with i=")
	}
	s = strings.TrimLeft(s[1:], " \t\r\n")
	if !strings.HasPrefix(s, "=") {
		return 0, "", errors.New("ARC-Authentication-Results does not start with i=")
	}
	num, rest, ok := strings.Cut(s[1:], ";")
	if !ok {
		return 0, "", errors.New("ARC-Authentication-Results has no ';' after i=")
	}
	if instance, err = parseInstance(trimFWS(num)); err != nil {
		return 0, "", err
	}
	// Comments are gone from the payload: it is for reading results.
	return instance, compactFWS(rest), nil
}

// parseAuthResults reads the authserv-id and the resinfos of an
// authres-payload (RFC 8601 §2.2). It is lenient: what it cannot read is
// skipped, since a badly written AAR does not break an ARC chain (RFC
// 8617 §5.2 checks only its instance); a caller that finds no result
// treats the hop as having said nothing.
func parseAuthResults(payload string) (authServID string, results []MethodResult) {
	parts := splitOutsideQuotes(stripComments(payload), ';')
	if len(parts) == 0 {
		return "", nil
	}
	// authserv-id [CFWS authres-version]
	if f := strings.Fields(parts[0]); len(f) > 0 {
		authServID = strings.ToLower(unquote(f[0]))
	}
	for _, p := range parts[1:] {
		r, ok := parseResinfo(p)
		if ok {
			results = append(results, r)
		}
	}
	return authServID, results
}

// parseResinfo parses methodspec [reasonspec] *propspec (RFC 8601 §2.2),
// with CFWS allowed around each "=".
func parseResinfo(s string) (MethodResult, bool) {
	pairs := keyValues(s)
	if len(pairs) == 0 {
		return MethodResult{}, false
	}
	method, _, _ := strings.Cut(pairs[0][0], "/") // method [ "/" version ]
	r := MethodResult{
		Method: strings.ToLower(method),
		Result: strings.ToLower(pairs[0][1]),
	}
	if r.Method == "" || r.Result == "" {
		return MethodResult{}, false
	}
	for _, kv := range pairs[1:] {
		k := strings.ToLower(kv[0])
		if k == "reason" {
			r.Reason = kv[1]
			continue
		}
		if r.Props == nil {
			r.Props = make(map[string]string)
		}
		if _, dup := r.Props[k]; !dup {
			r.Props[k] = kv[1]
		}
	}
	return r, true
}

// keyValues reads "k = v" pairs separated by white space; values may be
// quoted strings. Bare words without "=" are skipped.
func keyValues(s string) [][2]string {
	var out [][2]string
	i := 0
	skip := func() {
		for i < len(s) && isFWSByte(s[i]) {
			i++
		}
	}
	word := func() string {
		start := i
		for i < len(s) && !isFWSByte(s[i]) && s[i] != '=' && s[i] != '"' {
			i++
		}
		return s[start:i]
	}
	for {
		skip()
		if i >= len(s) {
			return out
		}
		k := word()
		skip()
		if i >= len(s) || s[i] != '=' {
			if k == "" {
				i++ // a stray quote or '=': move on
			}
			continue
		}
		i++
		skip()
		var v string
		if i < len(s) && s[i] == '"' {
			start := i
			i++
			for i < len(s) && s[i] != '"' {
				if s[i] == '\\' {
					i++
				}
				i++
			}
			if i < len(s) {
				i++
			}
			v = unquote(s[start:min(i, len(s))])
		} else {
			v = word()
		}
		if k != "" {
			out = append(out, [2]string{k, v})
		}
	}
}

// stripComments replaces RFC 5322 comments (nested, with quoted-pairs)
// outside quoted strings by a space.
func stripComments(s string) string {
	if !strings.ContainsRune(s, '(') {
		return s
	}
	var b strings.Builder
	depth := 0
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case depth == 0 && c == '"':
			quoted = !quoted
			b.WriteByte(c)
		case quoted:
			if c == '\\' && i+1 < len(s) {
				b.WriteByte(c)
				i++
				c = s[i]
			}
			b.WriteByte(c)
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitOutsideQuotes splits s at sep where it is not within a quoted
// string.
func splitOutsideQuotes(s string, sep byte) []string {
	var parts []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && quoted:
			i++
		case s[i] == '"':
			quoted = !quoted
		case s[i] == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unquote(s string) string {
	if len(s) < 2 || s[0] != '"' || s[len(s)-1] != '"' {
		return s
	}
	s = s[1 : len(s)-1]
	if !strings.ContainsRune(s, '\\') {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// compactFWS is s unfolded, each run of white space made one space and
// the ends trimmed: a value as relaxed canonicalization reads it (RFC
// 6376 §3.4.2).
func compactFWS(s string) string {
	return strings.Join(strings.FieldsFunc(mailheader.Unfold(s), func(r rune) bool { return r == ' ' || r == '\t' }), " ")
}
