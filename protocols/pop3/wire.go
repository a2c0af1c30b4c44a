package pop3

import (
	"bufio"
	"bytes"
	"errors"
	"strings"

	"github.com/surat-mail/surat/protocols/frontend"
)

// maxCommandLine is RFC 2449 §4's limit: "the maximum length of a command
// line is 255 octets, including the terminating CRLF".
const maxCommandLine = 255

// maxDiscard bounds how much of one over-long line is read and thrown away
// before the session gives up on the client.
const maxDiscard = 64 << 10

// readLine's errors (frontend.ReadLine).
var (
	errLineLong  = frontend.ErrLineLong
	errLineAbuse = frontend.ErrLineAbuse
)

// readLine reads one line ending in LF (CRLF or bare LF, RFC 1939 §3 asks
// for CRLF; being lenient costs nothing here) and returns it without the
// line ending. A line longer than limit octets with its CRLF is consumed
// and reported as errLineLong; one past maxDiscard as errLineAbuse.
func readLine(r *bufio.Reader, limit int) ([]byte, error) {
	return frontend.ReadLine(r, limit, maxDiscard)
}

// command is one parsed command line (RFC 1939 §3): a keyword, matched
// case-insensitively, and arguments separated by spaces. rest is everything
// after the keyword and one space, for PASS, whose argument may contain
// spaces (RFC 1939 §7 notes this).
type command struct {
	name string
	args []string
	rest string
}

var errBadCommand = errors.New("pop3: malformed command")

// parseCommand splits a line into a command. Keywords are 3 or 4
// printable characters (RFC 1939 §3); anything else is malformed.
func parseCommand(line []byte) (command, error) {
	s := string(line)
	name, rest, _ := strings.Cut(s, " ")
	if len(name) < 3 || len(name) > 4 {
		return command{}, errBadCommand
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if (c < 'A' || c > 'Z') && (c < 'a' || c > 'z') {
			return command{}, errBadCommand
		}
	}
	cmd := command{name: strings.ToUpper(name), rest: rest}
	// Each command checks its own arity; the line limit bounds the count.
	cmd.args = strings.Fields(rest)
	return cmd, nil
}

// parseNumber parses a message number or line count: decimal digits only
// (RFC 1939 §3: "msg" is a number), no sign, at most 10 digits.
func parseNumber(s string) (uint64, bool) {
	if s == "" || len(s) > 10 {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + uint64(c-'0')
	}
	return n, true
}

// dotWriter writes a message body as a POP3 multi-line response body
// (RFC 1939 §3): a line starting with "." gets one more "." (byte-stuffing),
// every line ends in CRLF (a bare LF becomes CRLF), and finish adds the
// final CRLF if the body lacks one and the ".\r\n" terminator.
type dotWriter struct {
	w   *bufio.Writer
	bol bool // at the beginning of a line
	cr  bool // the last byte written was '\r'
}

func newDotWriter(w *bufio.Writer) *dotWriter { return &dotWriter{w: w, bol: true} }

func (d *dotWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if d.bol && p[0] == '.' {
			if err := d.w.WriteByte('.'); err != nil {
				return 0, err
			}
		}
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			if _, err := d.w.Write(p); err != nil {
				return 0, err
			}
			d.bol, d.cr = false, p[len(p)-1] == '\r'
			break
		}
		crBefore := d.cr
		if i > 0 {
			crBefore = p[i-1] == '\r'
		}
		if _, err := d.w.Write(p[:i]); err != nil {
			return 0, err
		}
		if !crBefore {
			if err := d.w.WriteByte('\r'); err != nil {
				return 0, err
			}
		}
		if err := d.w.WriteByte('\n'); err != nil {
			return 0, err
		}
		d.bol, d.cr = true, false
		p = p[i+1:]
	}
	return n, nil
}

// finish ends the body and writes the terminator.
func (d *dotWriter) finish() error {
	if !d.bol {
		if d.cr {
			if err := d.w.WriteByte('\n'); err != nil {
				return err
			}
		} else if _, err := d.w.WriteString("\r\n"); err != nil {
			return err
		}
	}
	_, err := d.w.WriteString(".\r\n")
	return err
}

// topFilter passes through the header, the blank line after it and then
// at most lines body lines (RFC 1939 §7 TOP), and reports done once it has
// passed all it will, so the caller stops reading the body.
type topFilter struct {
	w       *dotWriter
	lines   uint64 // body lines still to pass
	inBody  bool
	lineLen int // octets on the current header line, CRs not counted
	done    bool
}

func newTopFilter(w *dotWriter, lines uint64) *topFilter {
	return &topFilter{w: w, lines: lines}
}

func (t *topFilter) Write(p []byte) (int, error) {
	n := len(p)
	if t.done {
		return n, nil
	}
	cut := len(p)
	for i, c := range p {
		if !t.inBody {
			switch c {
			case '\n':
				// The header ends at the first empty line (RFC 5322 §2.1).
				if t.lineLen == 0 {
					t.inBody = true
					if t.lines == 0 {
						cut, t.done = i+1, true
					}
				}
				t.lineLen = 0
			case '\r':
			default:
				t.lineLen++
			}
		} else if c == '\n' {
			t.lines--
			if t.lines == 0 {
				cut, t.done = i+1, true
			}
		}
		if t.done {
			break
		}
	}
	if _, err := t.w.Write(p[:cut]); err != nil {
		return 0, err
	}
	return n, nil
}
