package imapmsg

import (
	"strings"
)

// ParseAddressList reads the address list of an address header field's
// raw value (RFC 5322 §3.4, with the obsolete syntax of §4.4), as the
// ENVELOPE returns it: nil when it holds no address. It never fails: what
// does not parse is skipped, a missing mailbox or domain is named
// MissingMailbox or MissingDomain.
func ParseAddressList(raw string) []Address {
	var p addrParser
	return p.list(raw)
}

// list parses raw as ParseAddressList does, reusing p's buffers.
func (p *addrParser) list(raw string) []Address {
	if strings.TrimSpace(raw) == "" {
		return nil
	}
	p.s, p.i, p.comment = raw, 0, ""
	if strings.ContainsAny(raw, "\r\n") {
		p.s = value(raw)
	}
	var out []Address
	for p.i < len(p.s) {
		before := p.i
		out = p.address(out, false)
		p.skipCFWS()
		if p.i < len(p.s) && (p.s[p.i] == ',' || p.i == before) {
			// A separator, or a character no address starts with (junk
			// such as a stray '>' or ';'): skip it.
			p.i++
		}
	}
	return out
}

// addrParser reads addresses from s. Tokens are substrings of s unless
// they must be rebuilt (an escape, words joined), so a list costs its
// slice and little more.
type addrParser struct {
	s string
	i int
	// comment is the text of the last comment skipCFWS passed, for an
	// addr-spec without a display name: "user@host (Real Name)".
	comment string
	buf     []byte
	words   []word
}

// word is one word of a phrase or local part.
type word struct {
	text string
	// space: white space or a comment came before it.
	space bool
	// dot: the word is the '.' of a dot-atom or an obs-phrase.
	dot bool
	// quoted: the word was a quoted string; start and end place it (its
	// quotes included) in the parser's text.
	quoted     bool
	start, end int
}

// address reads one mailbox or group at p.i and appends its addresses to
// out. inGroup: a group's member list, where ';' ends the list and another
// group cannot start.
func (p *addrParser) address(out []Address, inGroup bool) []Address {
	ws := p.phrase()
	p.skipCFWS()
	if p.i >= len(p.s) {
		return p.bare(out, ws)
	}
	switch p.s[p.i] {
	case ':':
		p.i++
		if inGroup {
			// No nested groups (RFC 5322 §3.4): read on as members.
			return out
		}
		out = append(out, Address{Mailbox: nonEmpty(p.join(ws, true), MissingMailbox)})
		for {
			p.skipCFWS()
			if p.i >= len(p.s) {
				break
			}
			if p.s[p.i] == ';' {
				p.i++
				break
			}
			before := p.i
			out = p.address(out, true)
			p.skipCFWS()
			if p.i < len(p.s) && (p.s[p.i] == ',' || p.i == before) && p.s[p.i] != ';' {
				p.i++
			}
		}
		return append(out, Address{})
	case '<':
		p.i++
		name := humanText(p.join(ws, true))
		route := p.route()
		mailbox, host := p.addrSpec()
		p.skipCFWS()
		if p.i < len(p.s) && p.s[p.i] == '>' {
			p.i++
		}
		if mailbox == "" && host == "" && route == "" && name == "" {
			// "<>": the null path, no address.
			return out
		}
		return append(out, Address{Name: name, Route: route, Mailbox: nonEmpty(mailbox, MissingMailbox), Host: nonEmpty(host, MissingDomain)})
	case '@':
		p.i++
		local := p.join(ws, false)
		p.comment = ""
		host := p.domain()
		p.skipCFWS()
		return append(out, Address{Name: p.comment, Mailbox: nonEmpty(local, MissingMailbox), Host: nonEmpty(host, MissingDomain)})
	}
	return p.bare(out, ws)
}

// bare is a list element of words only: a local part without a domain.
func (p *addrParser) bare(out []Address, ws []word) []Address {
	local := p.join(ws, false)
	if local == "" {
		return out
	}
	return append(out, Address{Mailbox: local, Host: MissingDomain})
}

func nonEmpty(s, missing string) string {
	if s == "" {
		return missing
	}
	return s
}

// phrase reads words (atoms, quoted strings and dots) at p.i into
// p.words, which the next call reuses: the caller joins them first.
func (p *addrParser) phrase() []word {
	ws := p.words[:0]
loop:
	for {
		start := p.i
		p.skipCFWS()
		space := p.i > start
		if p.i >= len(p.s) {
			break
		}
		at := p.i
		switch c := p.s[p.i]; {
		case c == '"':
			ws = append(ws, word{text: p.quoted(), space: space, quoted: true, start: at, end: p.i})
		case c == '.':
			p.i++
			ws = append(ws, word{text: ".", space: space, dot: true, start: at, end: p.i})
		case isAtext(c):
			ws = append(ws, word{text: p.atom(), space: space, start: at, end: p.i})
		default:
			break loop
		}
	}
	p.words = ws[:0]
	return ws
}

// join makes the words one string: a display name (human: words apart by
// one space where the source had space between them) or a local part
// (dot-atom: the words run together).
func (p *addrParser) join(ws []word, human bool) string {
	switch len(ws) {
	case 0:
		return ""
	case 1:
		return ws[0].text
	}
	// The words as they stand in the text when that is their joined form
	// (no quotes; adjacent, or one space apart for a name): no copy.
	plain := true
	for k, w := range ws {
		if w.quoted {
			plain = false
			break
		}
		if k > 0 {
			gap := p.s[ws[k-1].end:w.start]
			if !(gap == "" || human && gap == " " && w.space) {
				plain = false
				break
			}
		}
	}
	if plain {
		return p.s[ws[0].start:ws[len(ws)-1].end]
	}
	p.buf = p.buf[:0]
	for k, w := range ws {
		if human && k > 0 && w.space {
			p.buf = append(p.buf, ' ')
		}
		p.buf = append(p.buf, w.text...)
	}
	return string(p.buf)
}

// route reads an obs-route "@a,@b:" (RFC 5322 §4.4) if one starts at p.i,
// and returns it without its colon. Only route characters are scanned, so
// a '<' that starts no route costs no more than the text it could hold.
func (p *addrParser) route() string {
	p.skipCFWS()
	if p.i >= len(p.s) || p.s[p.i] != '@' {
		return ""
	}
	start := p.i
	for j := p.i; j < len(p.s); j++ {
		switch c := p.s[j]; {
		case c == ':':
			p.i = j + 1
			return strings.Trim(p.s[start:j], " \t")
		case c == '@' || c == ',' || c == '.' || c == ' ' || c == '\t' || c == '[' || c == ']' || isAtext(c):
		default:
			return ""
		}
	}
	return ""
}

// addrSpec reads local-part "@" domain inside angle brackets.
func (p *addrParser) addrSpec() (mailbox, host string) {
	mailbox = p.join(p.phrase(), false)
	p.skipCFWS()
	if p.i < len(p.s) && p.s[p.i] == '@' {
		p.i++
		host = p.domain()
	}
	return mailbox, host
}

// domain reads a dot-atom or a domain literal (kept with its brackets).
func (p *addrParser) domain() string {
	p.skipCFWS()
	if p.i < len(p.s) && p.s[p.i] == '[' {
		end := strings.IndexByte(p.s[p.i:], ']')
		if end < 0 {
			end = len(p.s) - p.i - 1
		}
		d := p.s[p.i : p.i+end+1]
		p.i += end + 1
		return d
	}
	// Quoted words have no place in a domain; keep them as text.
	return p.join(p.phrase(), false)
}

// atom reads a run of atext at p.i (RFC 5322 §3.2.3).
func (p *addrParser) atom() string {
	start := p.i
	for p.i < len(p.s) && isAtext(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// quoted reads a quoted string at p.i and returns its content, its
// quoted-pairs undone (RFC 5322 §3.2.4).
func (p *addrParser) quoted() string {
	p.i++ // the opening quote
	start := p.i
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '"':
			s := p.s[start:p.i]
			p.i++
			return s
		case '\\':
			return p.quotedSlow(start)
		}
		p.i++
	}
	return p.s[start:]
}

func (p *addrParser) quotedSlow(start int) string {
	p.buf = append(p.buf[:0], p.s[start:p.i]...)
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch {
		case c == '"':
			return string(p.buf)
		case c == '\\' && p.i < len(p.s):
			p.buf = append(p.buf, p.s[p.i])
			p.i++
		default:
			p.buf = append(p.buf, c)
		}
	}
	return string(p.buf)
}

// skipCFWS skips white space and comments (RFC 5322 §3.2.2), keeping the
// last comment's text in p.comment.
func (p *addrParser) skipCFWS() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		case '(':
			p.skipComment()
		default:
			return
		}
	}
}

// skipComment skips a comment at p.i, nested ones and quoted-pairs
// within it, and keeps its text with white space collapsed.
func (p *addrParser) skipComment() {
	depth := 0
	start := p.i + 1
	end := len(p.s)
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '\\':
			p.i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				end = p.i - 1
				p.i = min(p.i, len(p.s))
				p.comment = strings.Join(strings.Fields(p.s[start:end]), " ")
				return
			}
		}
	}
	p.i = len(p.s)
	p.comment = strings.Join(strings.Fields(p.s[start:end]), " ")
}

// isAtext reports whether c is atext (RFC 5322 §3.2.3), 8-bit octets
// included (RFC 6532 §3.2).
func isAtext(c byte) bool {
	return atext[c]
}

var atext = func() (t [256]bool) {
	for c := 0; c < 256; c++ {
		t[c] = c > ' ' && c != 0x7f && !strings.ContainsRune(`()<>[]:;@\,."`, rune(c))
	}
	return t
}()
