package sortthread

import (
	"fmt"
	"io"
	"mime"
	"strings"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/ianaindex"
)

// wordDecoder decodes RFC 2047 encoded words in any charset
// golang.org/x/text knows.
var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// charsetReader turns a charset name into a UTF-8 reader, the WHATWG
// names first (what mail clients write) and the IANA ones after.
func charsetReader(charset string, input io.Reader) (io.Reader, error) {
	enc, err := htmlindex.Get(charset)
	if err != nil || enc == nil || enc == encoding.Replacement {
		enc, err = ianaindex.MIME.Encoding(charset)
		if err != nil || enc == nil {
			return nil, fmt.Errorf("unknown charset %q", charset)
		}
	}
	return enc.NewDecoder().Reader(input), nil
}

// decodeWords decodes the RFC 2047 encoded words of a header value (RFC
// 5256 §2.1 step 1). A value that does not decode is used as it is.
func decodeWords(v string) string {
	if !strings.Contains(v, "=?") {
		return v
	}
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}
