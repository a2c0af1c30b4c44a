package sortthread

import "strings"

// Address is the first address of an address header (From, To, Cc) as
// SORT needs it: Mailbox is the addr-mailbox of the IMAP ENVELOPE (RFC
// 9051 §7.5.2: the local part, or the group name for a group), Domain the
// addr-host, Name the display name (RFC 5322 §3.4 display-name, or the
// comment after a bare addr-spec, as ENVELOPE takes it), undecoded.
type Address struct {
	Name, Mailbox, Domain string
	Group                 bool
}

// FirstAddress parses the first address of an RFC 5322 address-list
// leniently: quoted strings, comments, angle addresses, routes and
// groups are understood; what cannot be understood ends the address.
// ok is false when the value holds no address.
func FirstAddress(value string) (a Address, ok bool) {
	p := addrParser{s: value}
	var phrase []string
	comment := ""
	for {
		c, found := p.skipCFWS()
		if found && comment == "" {
			comment = c
		}
		if p.eof() {
			break
		}
		switch ch := p.s[p.i]; ch {
		case '<':
			p.i++
			a = p.angle()
			a.Name = strings.Join(phrase, " ")
			return a, a.Mailbox != "" || a.Domain != "" || a.Name != ""
		case ':':
			// RFC 5322 §3.4 group: display-name ":" [group-list] ";".
			if len(phrase) == 0 {
				p.i++ // no name: read on into its members
				continue
			}
			return Address{Name: strings.Join(phrase, " "), Mailbox: strings.Join(phrase, " "), Group: true}, true
		case '@':
			// A bare addr-spec: the words so far were its local part.
			p.i++
			a.Mailbox = strings.Join(phrase, "")
			a.Domain = p.domain()
			if c, found := p.skipCFWS(); found && comment == "" {
				comment = c
			}
			a.Name = comment
			return a, true
		case ',', ';', '>':
			if len(phrase) > 0 {
				// A lone word: a local part without a domain.
				return Address{Mailbox: strings.Join(phrase, ""), Name: comment}, true
			}
			p.i++ // an empty list element
		case '"':
			phrase = append(phrase, p.quoted())
		default:
			phrase = append(phrase, p.word())
		}
	}
	if len(phrase) > 0 {
		return Address{Mailbox: strings.Join(phrase, " "), Name: comment}, true
	}
	return Address{}, false
}

type addrParser struct {
	s string
	i int
	// firstComment is the text of the first comment skipped.
	firstComment string
	commented    bool
}

func (p *addrParser) eof() bool { return p.i >= len(p.s) }

// skipCFWS skips white space and comments, and returns the text of the
// first comment the parser has skipped so far.
func (p *addrParser) skipCFWS() (comment string, found bool) {
	for !p.eof() {
		switch p.s[p.i] {
		case ' ', '\t', '\r', '\n':
			p.i++
		case '(':
			c := p.comment()
			if !p.commented {
				p.firstComment, p.commented = c, true
			}
		default:
			return p.firstComment, p.commented
		}
	}
	return p.firstComment, p.commented
}

// comment reads a (possibly nested) comment at p.i and returns its text.
func (p *addrParser) comment() string {
	var b strings.Builder
	depth := 0
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '(':
			if depth > 0 {
				b.WriteByte(c)
			}
			depth++
		case ')':
			depth--
			if depth == 0 {
				return strings.TrimSpace(b.String())
			}
			b.WriteByte(c)
		case '\\':
			if !p.eof() {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return strings.TrimSpace(b.String())
}

// quoted reads a quoted-string at p.i and returns its content.
func (p *addrParser) quoted() string {
	var b strings.Builder
	p.i++ // the opening quote
	for !p.eof() {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if !p.eof() {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		case '\r', '\n':
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// word reads an atom (dots allowed, as in obs-phrase and dot-atom).
func (p *addrParser) word() string {
	start := p.i
	for !p.eof() && !strings.ContainsRune(" \t\r\n()<>[]:;@\\,\"", rune(p.s[p.i])) {
		p.i++
	}
	if p.i == start {
		// A special that cannot start a word ("[", "]", "\"): skip it.
		p.i++
		return p.s[start:p.i]
	}
	return p.s[start:p.i]
}

// domain reads a domain (dot-atom or domain-literal) after "@".
func (p *addrParser) domain() string {
	var b strings.Builder
	for {
		p.skipCFWS()
		if p.eof() {
			return b.String()
		}
		switch c := p.s[p.i]; {
		case c == '[':
			end := strings.IndexByte(p.s[p.i:], ']')
			if end < 0 {
				b.WriteString(p.s[p.i:])
				p.i = len(p.s)
				return b.String()
			}
			b.WriteString(p.s[p.i : p.i+end+1])
			p.i += end + 1
		case c == '.':
			b.WriteByte(c)
			p.i++
		case strings.IndexByte(" \t\r\n()<>[]:;@\\,\"", c) >= 0:
			return b.String()
		default:
			b.WriteString(p.word())
		}
	}
}

// angle reads an angle-addr's content after "<": an optional obsolete
// route, then local-part "@" domain, up to ">".
func (p *addrParser) angle() Address {
	var a Address
	var local []string
	for {
		p.skipCFWS()
		if p.eof() {
			a.Mailbox = strings.Join(local, "")
			return a
		}
		switch c := p.s[p.i]; c {
		case '>':
			p.i++
			a.Mailbox = strings.Join(local, "")
			return a
		case '@':
			p.i++
			d := p.domain()
			p.skipCFWS()
			if !p.eof() && (p.s[p.i] == ',' || p.s[p.i] == ':') && len(local) == 0 {
				// obs-route: "@a,@b:" before the address.
				p.i++
				continue
			}
			a.Mailbox, a.Domain = strings.Join(local, ""), d
			if i := strings.IndexByte(p.s[p.i:], '>'); i >= 0 {
				p.i += i + 1
			} else {
				p.i = len(p.s)
			}
			return a
		case '"':
			local = append(local, p.quoted())
		case ',', ':', ';', '<':
			p.i++
		default:
			local = append(local, p.word())
		}
	}
}

// displayKey is the text DISPLAYFROM and DISPLAYTO sort on (RFC 5957 §3):
// the decoded display name of the first address, or its addr-spec when
// it has none. A group's display name is its name.
func displayKey(a Address, ok bool) string {
	if !ok {
		return ""
	}
	if name := strings.TrimSpace(packSpace(decodeWords(a.Name))); name != "" {
		return name
	}
	if a.Domain != "" {
		return a.Mailbox + "@" + a.Domain
	}
	return a.Mailbox
}
