package sieve

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

// maxMIMEDepth bounds the nesting the body test walks.
const maxMIMEDepth = 16

// bodyPart is one leaf of the MIME tree, decoded.
type bodyPart struct {
	mediaType string // lower-case "type/subtype"
	text      string // transfer-decoded, and charset-decoded for text/*
}

// bodyCache holds the body read once per Execute.
type bodyCache struct {
	raw   []byte
	parts []bodyPart
	err   error
}

func (st *state) loadBody() *bodyCache {
	if st.body != nil {
		return st.body
	}
	bc := &bodyCache{}
	st.body = bc
	if st.msg.Body == nil {
		return bc
	}
	r, err := st.msg.Body()
	if err != nil {
		bc.err = err
		return bc
	}
	// RFC 5173 leaves the amount read to the site: MaxBodyBytes.
	bc.raw, bc.err = io.ReadAll(io.LimitReader(r, int64(st.lim.MaxBodyBytes)))
	if bc.err != nil {
		return bc
	}
	h := textproto.MIMEHeader{}
	for _, fl := range st.fields {
		h.Add(fl.name, fl.value())
	}
	walkMIME(h, bc.raw, 0, &bc.parts)
	return bc
}

// walkMIME flattens a MIME entity into its leaves (RFC 2045, RFC 2046):
// multipart bodies are split, message/rfc822 entities are entered.
func walkMIME(h textproto.MIMEHeader, body []byte, depth int, out *[]bodyPart) {
	ct := h.Get("Content-Type")
	mediaType, params, err := mime.ParseMediaType(ct)
	if err != nil || ct == "" {
		// RFC 2045 §5.2: the default is text/plain; charset=us-ascii.
		mediaType, params = "text/plain", map[string]string{}
	}
	mediaType = strings.ToLower(mediaType)
	if depth < maxMIMEDepth && strings.HasPrefix(mediaType, "multipart/") && params["boundary"] != "" {
		mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				break
			}
			data, err := io.ReadAll(p)
			if err != nil && len(data) == 0 {
				break
			}
			walkMIME(p.Header, data, depth+1, out)
		}
		return
	}
	if depth < maxMIMEDepth && mediaType == "message/rfc822" {
		tr := textproto.NewReader(bufio.NewReader(bytes.NewReader(body)))
		inner, err := tr.ReadMIMEHeader()
		if err == nil || len(inner) > 0 {
			rest, _ := io.ReadAll(tr.R)
			*out = append(*out, bodyPart{mediaType: mediaType})
			walkMIME(inner, rest, depth+1, out)
			return
		}
	}
	decoded := transferDecode(h.Get("Content-Transfer-Encoding"), body)
	text := string(decoded)
	if strings.HasPrefix(mediaType, "text/") {
		text = decodeCharset(params["charset"], decoded)
	}
	*out = append(*out, bodyPart{mediaType: mediaType, text: text})
}

// transferDecode undoes base64 and quoted-printable (RFC 2045 §6); a
// broken encoding leaves what decoded so far, or the bytes as they are.
func transferDecode(cte string, body []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, body)
		out := make([]byte, base64.StdEncoding.DecodedLen(len(clean)))
		n, err := base64.StdEncoding.Decode(out, clean)
		if err != nil && n == 0 {
			return body
		}
		return out[:n]
	case "quoted-printable":
		out, err := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(body)))
		if err != nil && len(out) == 0 {
			return body
		}
		return out
	}
	return body
}

// contentTypeMatches: RFC 5173 §5.2: "" matches every part, "type"
// every subtype of it, "type/subtype" exactly, case-insensitively.
func contentTypeMatches(want, mediaType string) bool {
	want = strings.ToLower(strings.TrimSpace(want))
	if want == "" {
		return true
	}
	if strings.Contains(want, "/") {
		return want == mediaType
	}
	t, _, _ := strings.Cut(mediaType, "/")
	return t == want
}

// bodyTest runs the body test (RFC 5173 §4, §5): :raw matches the
// undecoded body; :content the decoded parts of the given types; :text
// (the default) the text parts.
func (st *state) bodyTest(f *frame, o *op) (bool, error) {
	bc := st.loadBody()
	if bc.err != nil {
		return false, &RuntimeError{Line: o.line, Err: bc.err}
	}
	keys := f.strs(st, o.pos[0])
	if o.has("raw") {
		return st.match(f, o, []string{string(bc.raw)}, keys)
	}
	types := []string{"text"}
	if a, ok := o.tags["content"]; ok {
		types = f.strs(st, a)
	}
	var values []string
	for _, p := range bc.parts {
		for _, t := range types {
			if contentTypeMatches(t, p.mediaType) {
				values = append(values, p.text)
				break
			}
		}
	}
	return st.match(f, o, values, keys)
}
