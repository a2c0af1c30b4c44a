package sieve

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// decodeEncodedChars replaces "${hex:...}" and "${unicode:...}" (RFC
// 5228 §2.4.2.4). A sequence that does not have that form stays as it
// is; a code point that is not a Unicode scalar value is an error.
func decodeEncodedChars(s string) (string, error) {
	if !strings.Contains(s, "${") {
		return s, nil
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			return b.String(), nil
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		colon := strings.IndexByte(rest, ':')
		if j < 0 || colon < 0 || colon > j {
			b.WriteString("${")
			s = rest
			continue
		}
		kind := strings.ToLower(rest[:colon])
		words := strings.Fields(rest[colon+1 : j])
		decoded, ok, err := decodeWords(kind, words)
		if err != nil {
			return "", err
		}
		if !ok {
			b.WriteString("${")
			s = rest
			continue
		}
		b.WriteString(decoded)
		s = rest[j+1:]
	}
}

func decodeWords(kind string, words []string) (string, bool, error) {
	if len(words) == 0 || (kind != "hex" && kind != "unicode") {
		return "", false, nil
	}
	var b strings.Builder
	for _, w := range words {
		switch kind {
		case "hex":
			if len(w)%2 != 0 {
				return "", false, nil
			}
			for k := 0; k < len(w); k += 2 {
				v, err := strconv.ParseUint(w[k:k+2], 16, 8)
				if err != nil {
					return "", false, nil
				}
				b.WriteByte(byte(v))
			}
		case "unicode":
			if len(w) > 6 && strings.TrimLeft(w, "0") != "" && len(strings.TrimLeft(w, "0")) > 6 {
				return "", false, nil
			}
			v, err := strconv.ParseUint(w, 16, 32)
			if err != nil {
				return "", false, nil
			}
			r := rune(v)
			if v > 0x10FFFF || (r >= 0xD800 && r <= 0xDFFF) || !utf8.ValidRune(r) {
				return "", false, fmt.Errorf("encoded character U+%X is not a Unicode scalar value", v)
			}
			b.WriteRune(r)
		}
	}
	return b.String(), true, nil
}
