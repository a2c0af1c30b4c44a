package imapmsg

import (
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// ErrUnknownEncoding is BinarySection's and BinarySize's error for a part
// whose Content-Transfer-Encoding it cannot decode: the server answers
// NO [UNKNOWN-CTE] (RFC 3516 §4.3, RFC 9051 §7.1).
var ErrUnknownEncoding = errors.New("imapmsg: unknown content transfer encoding")

// Binary is the content of BINARY[part] (RFC 3516 §4.2, RFC 9051 §6.4.5):
// the part's body decoded from its Content-Transfer-Encoding (base64 and
// quoted-printable; 7bit, 8bit and binary as they are). The empty path is
// the whole message, as it is. A missing part is empty content and no
// error, as BodySection has it. Decoded content is new bytes; content
// that needs no decoding is a slice of the message.
func (m *Message) Binary(part []int) ([]byte, error) {
	p, enc, err := m.binaryPart(part)
	if err != nil || p == nil {
		return []byte{}, err
	}
	body := m.Body(p)
	if len(part) == 0 {
		return m.raw, nil
	}
	switch enc {
	case encBase64:
		return decodeBase64(make([]byte, 0, base64Size(body)), body), nil
	case encQP:
		return decodeQP(make([]byte, 0, len(body)), body), nil
	}
	return body, nil
}

// BinarySection is Binary with bs's partial range applied to the decoded
// content (RFC 3516 §4.2).
func (m *Message) BinarySection(bs *imap.FetchItemBinarySection) ([]byte, error) {
	b, err := m.Binary(bs.Part)
	if err != nil {
		return nil, err
	}
	return PartialOf(b, bs.Partial), nil
}

// BinarySize is BINARY.SIZE[part] (RFC 3516 §4.2): the size Binary's
// content has, computed without building it.
func (m *Message) BinarySize(part []int) (int64, error) {
	p, enc, err := m.binaryPart(part)
	if err != nil || p == nil {
		return 0, err
	}
	if len(part) == 0 {
		return int64(len(m.raw)), nil
	}
	body := m.Body(p)
	switch enc {
	case encBase64:
		return int64(base64Size(body)), nil
	case encQP:
		_, n := quotedPrintable(nil, body, true)
		return int64(n), nil
	}
	return int64(len(body)), nil
}

type encoding int

const (
	encIdentity encoding = iota
	encBase64
	encQP
)

func (m *Message) binaryPart(part []int) (*Part, encoding, error) {
	p := m.Find(part)
	if p == nil {
		return nil, 0, nil
	}
	if len(part) == 0 {
		return p, encIdentity, nil
	}
	switch e := p.Encoding; {
	case strings.EqualFold(e, "base64"):
		return p, encBase64, nil
	case strings.EqualFold(e, "quoted-printable"):
		return p, encQP, nil
	case strings.EqualFold(e, "7bit"), strings.EqualFold(e, "8bit"), strings.EqualFold(e, "binary"):
		return p, encIdentity, nil
	default:
		return nil, 0, fmt.Errorf("%w %q", ErrUnknownEncoding, e)
	}
}

// base64Value maps a base64 alphabet octet (RFC 2045 §6.8) to its value,
// others to 0xff.
var base64Value = func() (t [256]byte) {
	for i := range t {
		t[i] = 0xff
	}
	for i, c := range "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/" {
		t[c] = byte(i)
	}
	return t
}()

// decodeBase64 appends the decoding of src to dst. Octets outside the
// alphabet (line breaks, white space, junk) are ignored and '=' ends the
// data (RFC 2045 §6.8); a final group of one symbol carries no octet.
func decodeBase64(dst, src []byte) []byte {
	var acc uint32
	n := 0
	for _, c := range src {
		v := base64Value[c]
		if v == 0xff {
			if c == '=' {
				break
			}
			continue
		}
		acc = acc<<6 | uint32(v)
		if n++; n == 4 {
			dst = append(dst, byte(acc>>16), byte(acc>>8), byte(acc))
			acc, n = 0, 0
		}
	}
	switch n {
	case 2:
		dst = append(dst, byte(acc>>4))
	case 3:
		dst = append(dst, byte(acc>>10), byte(acc>>2))
	}
	return dst
}

// base64Size is len(decodeBase64(nil, src)).
func base64Size(src []byte) int {
	n := 0
	for _, c := range src {
		if v := base64Value[c]; v == 0xff {
			if c == '=' {
				break
			}
			continue
		}
		n++
	}
	size := n / 4 * 3
	switch n % 4 {
	case 2:
		size++
	case 3:
		size += 2
	}
	return size
}

// decodeQP appends the quoted-printable decoding of src to dst (RFC 2045
// §6.7): "=XX" is the octet XX (lower-case hex digits accepted), "=" at a
// line's end (white space after it allowed) a soft line break, white
// space at the end of a line dropped (rule 3); line breaks stay as
// written and a malformed "=" is kept as it is.
func decodeQP(dst, src []byte) []byte {
	dst, _ = quotedPrintable(dst, src, false)
	return dst
}

// quotedPrintable is decodeQP; with count it appends nothing and returns
// the decoded size only.
func quotedPrintable(dst, src []byte, count bool) ([]byte, int) {
	n := 0
	for len(src) > 0 {
		// One line: its text and its line break.
		eol := indexByte(src, '\n')
		var line, brk []byte
		if eol < 0 {
			line, src = src, nil
		} else {
			line, brk, src = src[:eol], src[eol:eol+1], src[eol+1:]
			if len(line) > 0 && line[len(line)-1] == '\r' {
				line, brk = line[:len(line)-1], []byte("\r\n")
			}
		}
		// Rule 3: trailing white space is padding.
		for len(line) > 0 && (line[len(line)-1] == ' ' || line[len(line)-1] == '\t') {
			line = line[:len(line)-1]
		}
		soft := false
		if len(line) > 0 && line[len(line)-1] == '=' {
			soft = true
			line = line[:len(line)-1]
		}
		for len(line) > 0 {
			j := indexByte(line, '=')
			if j < 0 {
				j = len(line)
			}
			if !count {
				dst = append(dst, line[:j]...)
			}
			n += j
			line = line[j:]
			if len(line) == 0 {
				break
			}
			if len(line) >= 3 {
				if hi, lo := unhex(line[1]), unhex(line[2]); hi < 16 && lo < 16 {
					if !count {
						dst = append(dst, hi<<4|lo)
					}
					n++
					line = line[3:]
					continue
				}
			}
			if !count {
				dst = append(dst, '=')
			}
			n++
			line = line[1:]
		}
		if !soft {
			if !count {
				dst = append(dst, brk...)
			}
			n += len(brk)
		}
	}
	return dst, n
}

func unhex(c byte) byte {
	switch {
	case '0' <= c && c <= '9':
		return c - '0'
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10
	}
	return 0xff
}
