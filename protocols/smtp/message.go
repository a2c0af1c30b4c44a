package smtp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// readChunk is how much of DATA is read at a time.
const readChunk = 32 << 10

// lineEndings checks a byte stream, across reads, for line endings other
// than CRLF (RFC 5321 §2.3.8): a LF not preceded by CR, or a CR not
// followed by LF.
type lineEndings struct {
	prevCR bool
}

// ok scans p and reports whether it holds no bare LF or bare CR so far.
func (l *lineEndings) ok(p []byte) bool {
	for _, b := range p {
		if l.prevCR && b != '\n' {
			return false
		}
		if b == '\n' && !l.prevCR {
			return false
		}
		l.prevCR = b == '\r'
	}
	return true
}

// end reports whether the stream ended cleanly (not on a lone CR).
func (l *lineEndings) end() bool { return !l.prevCR }

// readMessage reads DATA (or the BDAT chunks) into memory, bounded by
// limit, refusing at the first bare LF or bare CR. On refusal it returns at
// once: go-smtp reads and discards the rest of the message itself (and
// stops counting its size), so an oversize or smuggling message is never
// buffered past the point of refusal. Every error is an *SMTPError.
func readMessage(r io.Reader, limit int64) ([]byte, error) {
	var (
		buf   bytes.Buffer
		lines lineEndings
		chunk = make([]byte, readChunk)
	)
	for {
		n, err := r.Read(chunk)
		if n > 0 {
			if int64(buf.Len()+n) > limit {
				return nil, errTooBig // RFC 1870 §6.3
			}
			if !lines.ok(chunk[:n]) {
				return nil, errBareLineEnding
			}
			buf.Write(chunk[:n])
		}
		if errors.Is(err, io.EOF) {
			if !lines.end() {
				return nil, errBareLineEnding
			}
			if receivedFields(buf.Bytes()) > maxHops {
				return nil, errTooManyHops
			}
			return buf.Bytes(), nil
		}
		if err != nil {
			return nil, readError(err)
		}
	}
}

// maxHops is the most Received fields a message may arrive with: RFC
// 5321 §6.3 asks a server to detect loops by counting them, with a limit
// of at least 100 in its words, "a large number"; Postfix's
// hopcount_limit is 50 and real mail stays far below either.
const maxHops = 100

// RFC 5321 §6.3, RFC 3463 X.4.6: routing loop detected.
var errTooManyHops = reply(554, 5, 4, 6, "Too many hops: mail loop (more than 100 Received fields)")

// receivedFields counts the Received fields of msg's header.
func receivedFields(msg []byte) int {
	n := 0
	for len(msg) > 0 {
		line, rest, _ := bytes.Cut(msg, []byte("\r\n"))
		if len(line) == 0 {
			break // end of the header
		}
		if len(line) >= 9 && bytes.EqualFold(line[:9], []byte("Received:")) {
			n++
		}
		msg = rest
	}
	return n
}

// readError maps a failure while reading the message to a reply.
func readError(err error) *gosmtp.SMTPError {
	var ne net.Error
	switch {
	case errors.Is(err, gosmtp.ErrDataTooLarge):
		return errTooBig
	case errors.Is(err, gosmtp.ErrTooLongLine):
		return errLineTooLong
	case errors.As(err, &ne) && ne.Timeout():
		return errTimeout
	default:
		// A connection lost mid-message or a BDAT transfer aborted: the
		// client is gone or retries; nothing was stored.
		return errTemporary
	}
}

// trace is what the Received field records (RFC 5321 §4.4).
type trace struct {
	Helo     string // the client's HELO/EHLO argument
	RemoteIP string
	Host     string // our host name ("by")
	TLS      bool
	Auth     bool
	UTF8     bool
	TLSInfo  string // e.g. "TLS1.3 TLS_AES_128_GCM_SHA256", or ""
	ID       string
	For      string // the recipient when there is exactly one, else ""
	Date     time.Time
}

// protocol is the with-keyword of RFC 3848 (ESMTP, ESMTPS, ESMTPA,
// ESMTPSA) or, for SMTPUTF8 transactions, RFC 6531 §3.7.3 (UTF8SMTP...).
func (t trace) protocol() string {
	p := "ESMTP"
	if t.UTF8 {
		p = "UTF8SMTP"
	}
	if t.TLS {
		p += "S"
	}
	if t.Auth {
		p += "A"
	}
	return p
}

// receivedField formats the trace as a folded Received header field:
//
//	Received: from HELO ([IP])
//		by HOST (Surat) with ESMTPS (TLS1.3 ...) id ID
//		for <RCPT>; DATE
func receivedField(t trace) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Received: from %s (%s)\r\n", cleanToken(t.Helo), addressLiteral(t.RemoteIP))
	fmt.Fprintf(&b, "\tby %s (Surat) with %s", cleanToken(t.Host), t.protocol())
	if t.TLSInfo != "" {
		fmt.Fprintf(&b, " (%s)", cleanComment(t.TLSInfo))
	}
	fmt.Fprintf(&b, " id %s\r\n\t", cleanToken(t.ID))
	if t.For != "" {
		fmt.Fprintf(&b, "for <%s>", cleanPath(t.For))
	}
	// RFC 5322 §3.3 date-time.
	fmt.Fprintf(&b, "; %s\r\n", t.Date.Format(time.RFC1123Z))
	return b.String()
}

// returnPathField is RFC 5321 §4.4's Return-Path, added at final delivery.
func returnPathField(from string) string {
	return "Return-Path: <" + cleanPath(from) + ">\r\n"
}

// storedMessage is what delivery stores: trace fields, then the message
// exactly as received.
func storedMessage(from string, t trace, body []byte) []byte {
	rp, rcv := returnPathField(from), receivedField(t)
	out := make([]byte, 0, len(rp)+len(rcv)+len(body))
	out = append(out, rp...)
	out = append(out, rcv...)
	return append(out, body...)
}

// addressLiteral is RFC 5321 §4.1.3's form of the client's IP.
func addressLiteral(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return "unknown"
	}
	a = a.Unmap()
	if a.Is6() {
		return "[IPv6:" + a.String() + "]"
	}
	return "[" + a.String() + "]"
}

// cleanToken keeps a client-supplied word from breaking the header: no
// controls, spaces, parentheses, angle brackets, semicolons or backslashes;
// at most 255 bytes (RFC 1035 name length).
func cleanToken(s string) string {
	s = strings.Map(func(r rune) rune {
		if r <= 0x20 || r == 0x7f || strings.ContainsRune("()<>;\\\"", r) {
			return '_'
		}
		return r
	}, s)
	if len(s) > 255 {
		s = s[:255]
	}
	if s == "" {
		return "unknown"
	}
	return s
}

func cleanComment(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '(' || r == ')' || r == '\\' {
			return '_'
		}
		return r
	}, s)
}

// cleanPath drops controls and angle brackets from an address (go-smtp
// parsed it, but a quoted local part may hold almost anything).
func cleanPath(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '<' || r == '>' {
			return -1
		}
		return r
	}, s)
}

// headerValue is the unfolded value of the first header field name in the
// message's header section (RFC 5322 §2.2), or "". It reads at most the
// first 64 KiB.
func headerValue(msg []byte, name string) string {
	if len(msg) > 64<<10 {
		msg = msg[:64<<10]
	}
	var value []byte
	found := false
	for len(msg) > 0 {
		line := msg
		if i := bytes.Index(msg, []byte("\r\n")); i >= 0 {
			line, msg = msg[:i], msg[i+2:]
		} else {
			msg = nil
		}
		if len(line) == 0 {
			break // end of the header section
		}
		if line[0] == ' ' || line[0] == '\t' {
			if found {
				value = append(value, line...)
			}
			continue
		}
		if found {
			break
		}
		colon := bytes.IndexByte(line, ':')
		if colon > 0 && strings.EqualFold(string(bytes.TrimSpace(line[:colon])), name) {
			found = true
			value = append(value, line[colon+1:]...)
		}
	}
	v := strings.TrimSpace(string(value))
	if len(v) > 200 {
		v = v[:200]
	}
	return v
}
