package smtp

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"iter"
	"net"
	"net/netip"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
)

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

// storedBody is a message as received, in evlog.ChunkSize blocks, the
// chunks it is proposed in, with its SHA-256. Read with a stage function,
// every full block but the last is handed to it as soon as the next byte
// arrives and only the last is kept: the message streams into the log and
// is never held whole. What delivery adds on top (trace fields, the
// checks' verdicts) is known only at the end: it becomes the stored
// body's head (BlobStored.head, see last).
type storedBody struct {
	blocks [][]byte // each full but the last: the blocks not staged
	staged uint32   // full blocks handed to stage before blocks[0]
	size   int
	sum    []byte
	head   []byte // the message's first headLimit bytes, for its header fields
	// headerLen is the length of the message's header block, up to and
	// including the empty line that ends it (the whole message when it
	// has none), and restSum the SHA-256 of what follows: a copy whose
	// header block a check replaced (pipeline.RecipientOutcome.Header) is
	// named from it (copies.go).
	headerLen int
	restSum   []byte
}

// headLimit bounds what is kept of a message's start for headerValue.
const headLimit = 64 << 10

// bytes is the body's unstaged blocks in one slice (tests, small bodies):
// the whole message when nothing was staged.
func (b *storedBody) bytes() []byte { return bytes.Join(b.blocks, nil) }

// last is the BlobStored that ends the body with head on top: the
// staged blocks are under uploadID, the last block travels in it. A body
// read without a stage function is staged nowhere: it must be one block.
func (b *storedBody) last(head, uploadID []byte) (*evlog.BlobStored, error) {
	if len(b.blocks) != 1 {
		return nil, fmt.Errorf("stored body of %d unstaged blocks, want 1", len(b.blocks))
	}
	if len(head) > evlog.MaxHead {
		return nil, fmt.Errorf("%d bytes of header fields to add, more than %d", len(head), evlog.MaxHead)
	}
	if b.staged > 0 && uploadID == nil {
		return nil, fmt.Errorf("%d chunks staged without an upload", b.staged)
	}
	if b.staged == 0 {
		uploadID = nil
	}
	return evlog.HeadedLast(head, b.sum, uploadID, b.staged, b.blocks[0]), nil
}

// stageFunc takes one full chunk of a body being read, in order from 0;
// it may keep data. Its error ends the read and is the reply.
type stageFunc func(data []byte) error

// readMessage reads DATA (or the BDAT chunks), bounded by limit, into a
// storedBody, hashing as it goes and refusing at the first bare LF or
// bare CR, or past maxHops Received fields. With stage, every full chunk but the last goes to it
// as soon as the byte after it is read (its caller proposes it, a few in
// flight), so the read holds a few chunks, not the message; without, the
// blocks are kept (the message held once). On refusal it returns at once:
// go-smtp reads and discards the rest of the message itself (and stops
// counting its size), so an oversize or smuggling message is never
// buffered past the point of refusal. Every error is an *SMTPError.
func readMessage(r io.Reader, limit int64, stage stageFunc) (*storedBody, error) {
	var (
		b     = &storedBody{}
		lines lineEndings
		hops  receivedCounter
		h     = sha256.New()
		rest  = newBodyStart()
		read  int64
	)
	block := make([]byte, 0, evlog.ChunkSize)
	// add appends message bytes to the blocks.
	add := func(p []byte) error {
		h.Write(p)
		rest.write(p)
		b.size += len(p)
		for len(p) > 0 {
			if len(block) == cap(block) {
				// Full, and more follows: not the last chunk.
				if stage == nil {
					b.blocks = append(b.blocks, block)
				} else if err := stage(block); err != nil {
					return replyFor(err)
				} else {
					b.staged++
				}
				block = make([]byte, 0, evlog.ChunkSize)
			}
			n := copy(block[len(block):cap(block)], p)
			block, p = block[:len(block)+n], p[n:]
		}
		return nil
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			p := buf[:n]
			if read += int64(n); read > limit {
				return nil, errTooBig // RFC 1870 §6.3
			}
			if !lines.ok(p) {
				return nil, errBareLineEnding
			}
			if hops.scan(p) > maxHops {
				return nil, errTooManyHops
			}
			if len(b.head) < headLimit {
				b.head = append(b.head, p[:min(len(p), headLimit-len(b.head))]...)
			}
			if err := add(p); err != nil {
				return nil, err
			}
		}
		if errors.Is(err, io.EOF) {
			if !lines.end() {
				return nil, errBareLineEnding
			}
			b.blocks = append(b.blocks, block)
			b.sum = h.Sum(nil)
			b.headerLen, b.restSum = rest.end()
			return b, nil
		}
		if err != nil {
			return nil, readError(err)
		}
	}
}

// bodyStart finds where a message's header block ends, at its first
// empty line (RFC 5322 §2.1), as the message streams by, and hashes what
// follows.
type bodyStart struct {
	// matched is how much of CRLF CRLF the last bytes matched; the message
	// starts as if after a CRLF, so that one starting with its empty line
	// has an empty header block.
	matched int
	at      int // the body's offset; -1 until found
	n       int // bytes seen
	h       hash.Hash
}

func newBodyStart() *bodyStart { return &bodyStart{matched: 2, at: -1, h: sha256.New()} }

func (b *bodyStart) write(p []byte) {
	if b.at >= 0 {
		b.h.Write(p)
		b.n += len(p)
		return
	}
	for i, c := range p {
		switch {
		case c == '\r' && b.matched == 2:
			b.matched = 3
		case c == '\r':
			b.matched = 1
		case c == '\n' && b.matched == 1:
			b.matched = 2
		case c == '\n' && b.matched == 3:
			b.at = b.n + i + 1
			b.h.Write(p[i+1:])
			b.n += len(p)
			return
		default:
			b.matched = 0
		}
	}
	b.n += len(p)
}

// end returns the header block's length and the SHA-256 of the rest.
func (b *bodyStart) end() (headerLen int, restSum []byte) {
	if b.at < 0 {
		return b.n, b.h.Sum(nil) // all header: the rest is empty
	}
	return b.at, b.h.Sum(nil)
}

// maxHops is the most Received fields a message may arrive with: RFC
// 5321 §6.3 asks a server to detect loops by counting them, with a limit
// of at least 100 in its words, "a large number"; Postfix's
// hopcount_limit is 50 and real mail stays far below either.
const maxHops = 100

// RFC 5321 §6.3, RFC 3463 X.4.6: routing loop detected.
var errTooManyHops = reply(554, 5, 4, 6, "Too many hops: mail loop (more than 100 Received fields)")

// receivedCounter counts the Received fields of a message's header as
// the message streams by.
type receivedCounter struct {
	n      int
	body   bool   // past the header
	col    int    // bytes of the current line so far
	prefix []byte // the current line's first 9 bytes
	prevCR bool
}

// scan reads p and returns the count so far.
func (c *receivedCounter) scan(p []byte) int {
	for _, ch := range p {
		if c.body {
			return c.n
		}
		if ch == '\n' && c.prevCR {
			if c.col == 1 { // the line held only its CR: the header ends
				c.body = true
			}
			c.col, c.prefix, c.prevCR = 0, c.prefix[:0], false
			continue
		}
		c.prevCR = ch == '\r'
		if c.col < 9 {
			c.prefix = append(c.prefix, ch)
			if c.col == 8 && bytes.EqualFold(c.prefix, []byte("Received:")) {
				c.n++
			}
		}
		c.col++
	}
	return c.n
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

// storedHead is what delivery stores on top of the message: Return-Path,
// the checks' fields (Authentication-Results, DKIM-Signature), then our
// Received (RFC 5321 §4.4; RFC 8601 §5 puts Authentication-Results at the
// top, with the trace fields of the host that added it).
func storedHead(from string, checks []byte, t trace) []byte {
	head := []byte(returnPathField(from))
	head = append(head, checks...)
	return append(head, receivedField(t)...)
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

// headerLines yields the lines of the header section at the start of msg
// (RFC 5322 §2.2), without their CRLF, up to the empty line that ends it.
func headerLines(msg []byte) iter.Seq[[]byte] {
	return func(yield func([]byte) bool) {
		rest := msg
		for len(rest) > 0 {
			line := rest
			if i := bytes.Index(rest, []byte("\r\n")); i >= 0 {
				line, rest = rest[:i], rest[i+2:]
			} else {
				rest = nil
			}
			if len(line) == 0 || !yield(line) {
				return
			}
		}
	}
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
	for line := range headerLines(msg) {
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
