package imapmsg

import (
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/charset"
)

// wordDecoder decodes RFC 2047 encoded words in any charset go-message
// knows. It holds no state between calls.
var wordDecoder = &mime.WordDecoder{CharsetReader: charset.Reader}

// decodeWords decodes the RFC 2047 encoded words of s, or returns s as it
// is when they do not decode.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// parseDate parses an RFC 5322 §3.3 date-time, obsolete forms included;
// the zero time when it does not parse.
func parseDate(s string) time.Time {
	t, err := mail.ParseDate(s)
	if err != nil {
		return time.Time{}
	}
	return t
}
