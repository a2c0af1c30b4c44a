package sieve

import (
	"bytes"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// field is one header field as it appears in the message: its name and
// the whole raw field, folding and line end included.
type field struct {
	name string
	raw  string
	// Filled on first use by state.fieldValue: the unfolded value and
	// the RFC 2047-decoded one.
	val, dec       string
	hasVal, hasDec bool
}

// value returns the field's unfolded value with the white space around
// it removed (RFC 5228 §5.7: "header" compares the value, RFC 5322
// §2.2.3 unfolding).
func (f field) value() string {
	i := strings.IndexByte(f.raw, ':')
	v := f.raw[i+1:]
	v = strings.ReplaceAll(v, "\r\n", "")
	v = strings.ReplaceAll(v, "\n", "")
	return strings.Trim(v, " \t\r")
}

// parseHeader splits a header block into fields. Lines that are neither
// a field nor a continuation are skipped: a script still runs on a
// malformed message.
func parseHeader(block []byte) []field {
	var fields []field
	s := string(block)
	// start is where the field being read began in s, or -1.
	start, name, pos := -1, "", 0
	flush := func(end int) {
		if start >= 0 {
			fields = append(fields, field{name: name, raw: s[start:end]})
			start = -1
		}
	}
	for pos < len(s) {
		end := strings.IndexByte(s[pos:], '\n')
		next := len(s)
		if end >= 0 {
			next = pos + end + 1
		}
		line := s[pos:next]
		if strings.TrimRight(line, "\r\n") == "" {
			break // the empty line ending the header
		}
		if line[0] == ' ' || line[0] == '\t' {
			pos = next // a continuation of the field being read, if any
			continue
		}
		flush(pos)
		if colon := strings.IndexByte(line, ':'); colon > 0 {
			if n := strings.TrimRight(line[:colon], " \t"); validFieldName(n) {
				start, name = pos, n
			}
		}
		pos = next
	}
	flush(pos)
	return fields
}

// validFieldName: RFC 5322 §3.6.8 ftext, printable ASCII except ":".
func validFieldName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// charsetReader turns a charset name into a UTF-8 reader with
// golang.org/x/text's tables, the WHATWG names first (what mail clients
// actually write) and the IANA ones after.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil || enc == nil || enc == encoding.Replacement {
		// WHATWG maps some names to "replacement", which turns the
		// whole text into one U+FFFD: better to compare the bytes.
		// ianaindex knows names it has no decoder for: nil, no error.
		enc, err = ianaindex.MIME.Encoding(charset)
		if err != nil || enc == nil {
			return nil, fmt.Errorf("unknown charset %q", charset)
		}
	}
	return enc.NewDecoder().Reader(input), nil
}

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeHeader decodes RFC 2047 encoded words (RFC 5228 §2.7.2: tests
// compare decoded text). An undecodable value is compared as it is.
func decodeHeader(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// decodeCharset converts text in charset to UTF-8; unknown charsets
// leave the bytes as they are.
func decodeCharset(charset string, b []byte) string {
	cs := strings.ToLower(strings.TrimSpace(charset))
	if cs == "" || cs == "utf-8" || cs == "us-ascii" || cs == "utf8" {
		return string(b)
	}
	r, err := charsetReader(cs, bytes.NewReader(b))
	if err != nil || r == nil {
		return string(b)
	}
	out, err := io.ReadAll(r)
	if err != nil {
		return string(b)
	}
	return string(out)
}

// addressesOf extracts the addresses of an address header's value
// (RFC 5228 §5.1). Group syntax contributes its members. A value
// net/mail cannot parse is split on commas, each piece taken from
// inside "<...>" when it has one, so that a sloppy header still matches.
func addressesOf(value string) []string {
	if list, err := mail.ParseAddressList(value); err == nil {
		out := make([]string, 0, len(list))
		for _, a := range list {
			out = append(out, a.Address)
		}
		return out
	}
	var out []string
	for _, piece := range strings.Split(value, ",") {
		piece = strings.TrimSpace(piece)
		if i := strings.LastIndexByte(piece, '<'); i >= 0 {
			if j := strings.IndexByte(piece[i:], '>'); j > 0 {
				piece = piece[i+1 : i+j]
			}
		}
		piece = strings.TrimSpace(piece)
		if piece != "" {
			out = append(out, piece)
		}
	}
	return out
}

// splitAddress splits an address at its last "@".
func splitAddress(a string) (local, domain string, ok bool) {
	i := strings.LastIndexByte(a, '@')
	if i < 0 {
		return a, "", false
	}
	return a[:i], a[i+1:], true
}
