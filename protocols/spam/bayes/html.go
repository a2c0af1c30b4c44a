package bayes

import (
	"bytes"
	"unicode/utf8"
)

// htmlTokens reads an HTML part: the tag names ("tag:font"), the link and
// image targets of its attributes, and its text with tags replaced by
// spaces, comments removed (spammers split words with them), script and
// style contents skipped and character references decoded (HTML Living
// Standard §13.2.5.72, the common named ones and numeric ones).
func htmlTokens(e *emitter, b []byte) {
	text := make([]byte, 0, len(b))
	tags := 0
	for i := 0; i < len(b); {
		c := b[i]
		switch c {
		case '<':
			if bytes.HasPrefix(b[i:], []byte("<!--")) {
				end := bytes.Index(b[i+4:], []byte("-->"))
				if end < 0 {
					i = len(b)
				} else {
					i += 4 + end + 3
				}
				continue
			}
			end := bytes.IndexByte(b[i+1:], '>')
			if end < 0 {
				i = len(b)
				continue
			}
			tag := b[i+1 : i+1+end]
			i += end + 2
			name := tagName(tag)
			if len(name) == 0 {
				text = append(text, ' ')
				continue
			}
			if tags++; tags <= 256 {
				e.emit("tag:", name)
				attrURLs(e, tag)
			}
			text = append(text, ' ')
			if equalFoldASCII(name, "script") && len(name) == 6 || equalFoldASCII(name, "style") && len(name) == 5 {
				closeTag := "</" + string(name)
				k := indexFold(b[i:], lowerString(closeTag))
				if k < 0 {
					i = len(b)
				} else {
					i += k
				}
			}
		case '&':
			r, n := entity(b[i:])
			if n == 0 {
				text = append(text, c)
				i++
				continue
			}
			text = utf8.AppendRune(text, r)
			i += n
		default:
			text = append(text, c)
			i++
		}
	}
	textTokens(e, text)
}

// tagName returns a tag's name, without the '/' of an end tag; nil for a
// declaration or processing instruction.
func tagName(tag []byte) []byte {
	tag = bytes.TrimPrefix(tag, []byte("/"))
	n := 0
	for n < len(tag) && n < 12 && ('a' <= tag[n] && tag[n] <= 'z' || 'A' <= tag[n] && tag[n] <= 'Z' || n > 0 && '0' <= tag[n] && tag[n] <= '9') {
		n++
	}
	if n == 0 {
		return nil
	}
	return tag[:n]
}

// attrURLs reads the URLs in a tag's attributes (href, src, action...).
func attrURLs(e *emitter, tag []byte) {
	if bytes.Contains(tag, []byte("://")) || indexFold(tag, "www.") >= 0 {
		urlTokens(e, tag)
	}
}

func lowerString(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// entity decodes a character reference at the start of b; n is 0 when
// there is none.
func entity(b []byte) (r rune, n int) {
	end := bytes.IndexByte(b[:min(len(b), 12)], ';')
	if end < 2 {
		return 0, 0
	}
	name := b[1:end]
	if name[0] == '#' {
		v, base := 0, 10
		digits := name[1:]
		if len(digits) > 0 && (digits[0] == 'x' || digits[0] == 'X') {
			base, digits = 16, digits[1:]
		}
		if len(digits) == 0 {
			return 0, 0
		}
		for _, c := range digits {
			d, ok := unhex(c)
			if !ok || int(d) >= base {
				return 0, 0
			}
			v = v*base + int(d)
			if v > utf8.MaxRune {
				return 0, 0
			}
		}
		if !utf8.ValidRune(rune(v)) || v == 0 {
			return ' ', end + 1
		}
		return rune(v), end + 1
	}
	switch string(name) {
	case "amp":
		return '&', end + 1
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "quot":
		return '"', end + 1
	case "apos":
		return '\'', end + 1
	case "nbsp":
		return ' ', end + 1
	}
	for _, c := range name {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return 0, 0
		}
	}
	return ' ', end + 1 // another named reference: a separator
}
