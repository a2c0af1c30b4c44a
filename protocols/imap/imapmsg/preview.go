package imapmsg

import (
	"bytes"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/emersion/go-message/charset"
	"golang.org/x/net/html"
)

// Preview limits (RFC 8970 §3.1, §3.2): the preview SHOULD hold at most
// 200 characters and MUST NOT exceed 256 octets.
const (
	PreviewChars  = 200
	previewOctets = 256
	// previewScan is how much of the chosen part's body is read: enough
	// for 200 characters after quoted lines and an HTML head are dropped,
	// without reading a large body whole.
	previewScan = 64 << 10
)

// Preview is the PREVIEW of the message (RFC 8970 §3.2), as Dovecot
// makes it: from the first text/plain or text/html part that is not an
// attachment (encapsulated messages are not entered), decoded from its
// transfer encoding and charset to UTF-8, HTML reduced to its text, quoted
// lines ("> ...") of plain text left out, white space collapsed, at most
// 200 characters and 256 octets. "" when the message has no such part.
func (m *Message) Preview() string {
	p := firstText(&m.Root)
	if p == nil {
		return ""
	}
	body := m.Body(p)
	if len(body) > previewScan {
		body = body[:previewScan]
	}
	switch enc := p.Encoding; {
	case strings.EqualFold(enc, "base64"):
		body = decodeBase64(make([]byte, 0, base64Size(body)), body)
	case strings.EqualFold(enc, "quoted-printable"):
		body = decodeQP(make([]byte, 0, len(body)), body)
	}
	text := toUTF8(body, p.Params)
	var pv previewText
	if strings.EqualFold(p.Subtype, "html") {
		pv.html(text)
	} else {
		pv.plain(text)
	}
	return pv.String()
}

// firstText is the first text/plain or text/html part of p's tree, in
// part order, that is not an attachment (RFC 2183 §2.2); nil if none.
func firstText(p *Part) *Part {
	if p.IsMultipart() {
		for k := range p.Parts {
			if t := firstText(&p.Parts[k]); t != nil {
				return t
			}
		}
		return nil
	}
	if !p.IsText() || strings.EqualFold(p.Disposition, "attachment") {
		return nil
	}
	if strings.EqualFold(p.Subtype, "plain") || strings.EqualFold(p.Subtype, "html") {
		return p
	}
	return nil
}

// toUTF8 converts body from the charset of params to UTF-8 (go-message's
// charsets); UTF-8, US-ASCII, an unknown charset or none is taken as
// UTF-8, invalid sequences dropped later.
func toUTF8(body []byte, params []Param) string {
	cs, _ := paramValue(params, "charset")
	switch strings.ToLower(cs) {
	case "", "utf-8", "utf8", "us-ascii", "ascii":
		return string(body)
	}
	r, err := charset.Reader(cs, bytes.NewReader(body))
	if err != nil {
		return string(body)
	}
	out, err := io.ReadAll(io.LimitReader(r, 4*previewScan))
	if err != nil && len(out) == 0 {
		return string(body)
	}
	return string(out)
}

// previewText collects preview characters: white space collapsed to one
// space, control characters and invalid UTF-8 dropped, up to the limits.
type previewText struct {
	b     strings.Builder
	chars int
	space bool // a space is pending before the next character
	full  bool
}

func (pv *previewText) add(s string) {
	for _, r := range s {
		if pv.full {
			return
		}
		switch {
		case r == utf8.RuneError:
			continue
		case unicode.IsSpace(r):
			pv.space = pv.chars > 0
			continue
		case unicode.IsControl(r) || r == '\u200b' || r == '\ufeff':
			continue
		}
		need := utf8.RuneLen(r)
		if pv.space {
			need++
		}
		if pv.chars+1+b2i(pv.space) > PreviewChars || pv.b.Len()+need > previewOctets {
			pv.full = true
			return
		}
		if pv.space {
			pv.b.WriteByte(' ')
			pv.chars++
			pv.space = false
		}
		pv.b.WriteRune(r)
		pv.chars++
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (pv *previewText) String() string { return pv.b.String() }

// plain adds plain text, its quoted lines left out.
func (pv *previewText) plain(text string) {
	for line := range strings.Lines(text) {
		if pv.full {
			return
		}
		if strings.HasPrefix(strings.TrimLeft(line, " \t"), ">") {
			continue
		}
		pv.add(line)
		pv.space = pv.chars > 0
	}
}

// html adds the text of an HTML document: character data outside head,
// script, style, title and blockquote, entities decoded, a space at each element
// boundary that breaks a line.
func (pv *previewText) html(text string) {
	z := html.NewTokenizer(strings.NewReader(text))
	skip := 0
	for !pv.full {
		switch tt := z.Next(); tt {
		case html.ErrorToken:
			return
		case html.TextToken:
			if skip == 0 {
				pv.add(string(z.Text()))
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, _ := z.TagName()
			switch string(name) {
			case "head", "script", "style", "title", "template", "blockquote":
				// Quoted replies (blockquote) are left out as quoted
				// lines of plain text are.
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			case "br", "p", "div", "li", "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr":
				pv.space = pv.chars > 0
			}
		}
	}
}
