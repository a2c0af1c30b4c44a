package filter

import (
	"bytes"
	"io"
)

// capture keeps what the scripts read of a message while it streams: the
// header block (RFC 5322 §2.1: up to the first empty line) up to maxHead
// bytes, and the body after it up to maxBody bytes (none when 0). The
// message itself streams on into the log; a capture never holds more than
// maxHead+maxBody bytes.
type capture struct {
	maxHead, maxBody int

	head      []byte
	headDone  bool // the empty line was seen
	headLen   int  // the header block's bytes seen so far
	headCut   bool // the header block was longer than maxHead
	lineStart bool // the next header byte starts a line
	cr        bool // the last header byte was a CR at a line's start
	body      []byte
	bodyCut   bool
	size      int64
}

func newCapture(maxHead, maxBody int) *capture {
	return &capture{maxHead: maxHead, maxBody: maxBody, lineStart: true}
}

// Write takes the next bytes of the message; it never fails.
func (c *capture) Write(p []byte) (int, error) {
	n := len(p)
	c.size += int64(n)
	if !c.headDone {
		i := c.headerEnd(p)
		h := p
		if i >= 0 {
			h = p[:i]
		}
		if room := c.maxHead - len(c.head); room > 0 {
			c.head = append(c.head, h[:min(room, len(h))]...)
		}
		c.headLen += len(h)
		c.headCut = c.headLen > c.maxHead
		if i < 0 {
			return n, nil
		}
		c.headDone = true
		p = p[i:]
	}
	if room := c.maxBody - len(c.body); room > 0 {
		c.body = append(c.body, p[:min(room, len(p))]...)
		p = p[min(room, len(p)):]
	}
	if len(p) > 0 && c.maxBody > 0 {
		c.bodyCut = true
	}
	return n, nil
}

// headerEnd scans header bytes for the empty line that ends the block and
// returns the index just past it in p, or -1.
func (c *capture) headerEnd(p []byte) int {
	for i, b := range p {
		switch {
		case c.cr && b == '\n':
			return i + 1
		case c.lineStart && b == '\n': // a bare LF line end
			return i + 1
		case c.lineStart && b == '\r':
			c.cr, c.lineStart = true, false
		default:
			c.cr = false
			c.lineStart = b == '\n'
		}
	}
	return -1
}

// Header is the header block the scripts see: what was kept, cut back to
// the last complete line when it was cut, always ending in the empty line.
func (c *capture) Header() []byte {
	h := c.head
	if c.headCut || !c.headDone {
		// Cut, or a message that ended inside its header block: keep
		// whole lines only, then end the block.
		if i := bytes.LastIndexByte(h, '\n'); i >= 0 {
			h = h[:i+1]
		} else {
			h = nil
		}
		out := make([]byte, 0, len(h)+2)
		out = append(out, h...)
		return append(out, '\r', '\n')
	}
	return h
}

// Body reads the kept body.
func (c *capture) Body() (io.Reader, error) { return bytes.NewReader(c.body), nil }

// reader tees what r reads into the capture: the run's pipeline.Filter,
// so that the capture sees the message as it is stored, after the earlier
// checks' filters.
type teeReader struct {
	r io.Reader
	c *capture
}

func (t teeReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n > 0 {
		_, _ = t.c.Write(p[:n])
	}
	return n, err
}
