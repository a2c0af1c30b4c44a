package arc

import (
	"errors"
	"fmt"
	"strings"
)

// tag is one tag-spec of a tag-list (RFC 6376 §3.2).
type tag struct {
	name  string
	value string // with leading and trailing FWS removed; inner FWS kept
	// start and end delimit the raw value in the parsed text: everything
	// between the '=' and the next ';' (or the end), surrounding
	// whitespace included. Removing it is how a signature's b= is
	// "treated as the empty string" (RFC 6376 §3.5, b= tag).
	start, end int
}

// tagList is a parsed tag-list, in the order of the text.
type tagList []tag

var errEmptyTagList = errors.New("empty tag-list")

// parseTags parses a tag-list (RFC 6376 §3.2):
//
//	tag-list  =  tag-spec *( ";" tag-spec ) [ ";" ]
//	tag-spec  =  [FWS] tag-name [FWS] "=" [FWS] tag-value [FWS]
//	tag-name  =  ALPHA *ALNUMPUNC
//
// Tag values are not checked against VALCHAR: DKIM keys and signatures
// carrying UTF-8 (RFC 8616) would be refused for no gain, and each caller
// checks the syntax of the values it uses.
func parseTags(s string) (tagList, error) {
	var tags tagList
	pos := 0
	for pos <= len(s) {
		semi := strings.IndexByte(s[pos:], ';')
		end := len(s)
		if semi >= 0 {
			end = pos + semi
		}
		spec := s[pos:end]
		if isFWS(spec) {
			// RFC 6376 §3.2: only the final tag-spec may be empty (a
			// trailing ";"), and a list must have at least one tag.
			switch {
			case semi < 0 && len(tags) > 0:
				return tags, nil
			case len(tags) == 0 && semi < 0:
				return nil, errEmptyTagList
			default:
				return nil, fmt.Errorf("empty tag-spec at offset %d", pos)
			}
		}
		eq := strings.IndexByte(spec, '=')
		if eq < 0 {
			return nil, fmt.Errorf("tag-spec %q has no '='", trimFWS(spec))
		}
		name := trimFWS(spec[:eq])
		if !isTagName(name) {
			return nil, fmt.Errorf("invalid tag-name %q", name)
		}
		for _, t := range tags {
			// RFC 6376 §3.2: a duplicated tag name makes the whole
			// tag-list invalid.
			if t.name == name {
				return nil, fmt.Errorf("duplicate tag %q", name)
			}
		}
		tags = append(tags, tag{
			name:  name,
			value: trimFWS(spec[eq+1:]),
			start: pos + eq + 1,
			end:   end,
		})
		if semi < 0 {
			break
		}
		pos = end + 1
	}
	return tags, nil
}

// get returns the value of the named tag (names are case-sensitive,
// RFC 6376 §3.2) and whether it is present.
func (l tagList) get(name string) (string, bool) {
	for _, t := range l {
		if t.name == name {
			return t.value, true
		}
	}
	return "", false
}

// find returns the named tag.
func (l tagList) find(name string) (tag, bool) {
	for _, t := range l {
		if t.name == name {
			return t, true
		}
	}
	return tag{}, false
}

// isTagName reports whether s is ALPHA *ALNUMPUNC (RFC 6376 §3.2).
func isTagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func isWSP(c byte) bool { return c == ' ' || c == '\t' }

// isFWSByte reports whether c may appear in folding white space.
func isFWSByte(c byte) bool { return c == ' ' || c == '\t' || c == '\r' || c == '\n' }

func isFWS(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isFWSByte(s[i]) {
			return false
		}
	}
	return true
}

func trimFWS(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return r < 0x80 && isFWSByte(byte(r)) })
}

// stripFWS removes all folding white space, as base64 values (b=, bh=,
// p=) allow it anywhere (RFC 6376 §3.5, "base64string").
func stripFWS(s string) string {
	if !strings.ContainsAny(s, " \t\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if !isFWSByte(s[i]) {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

// splitColon splits a colon-separated list (h= of a signature, h=, s= and
// t= of a key record), trimming FWS around each element.
func splitColon(s string) []string {
	parts := strings.Split(s, ":")
	for i := range parts {
		parts[i] = trimFWS(parts[i])
	}
	return parts
}
