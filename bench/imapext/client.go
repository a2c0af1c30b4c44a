package imapext

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
)

// Client is a minimal IMAP client over implicit TLS that counts the bytes
// of the IMAP stream both ways (after TLS: what the protocol costs, not
// the record framing), so that a resync's size can be compared across
// servers. It sends commands as given and reads responses line by line,
// literals included.
type Client struct {
	conn *countingConn
	r    *bufio.Reader
	tag  int
}

// countingConn counts what is read and written through it.
type countingConn struct {
	net.Conn
	in, out atomic.Int64
}

func (c *countingConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.in.Add(int64(n))
	return n, err
}

func (c *countingConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.out.Add(int64(n))
	return n, err
}

// Dial connects to addr over implicit TLS (certificate not verified: a
// loopback benchmark against self-signed certificates), reads the greeting
// and logs in.
func Dial(ctx context.Context, addr, user, pass string) (*Client, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 30 * time.Second},
		Config: &tls.Config{InsecureSkipVerify: true}} //nolint:gosec // loopback benchmark, self-signed
	nc, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", addr, err)
	}
	tc := nc.(*tls.Conn)
	cc := &countingConn{Conn: tc}
	c := &Client{conn: cc, r: bufio.NewReaderSize(cc, 64<<10)}
	if l, err := c.line(); err != nil || !strings.HasPrefix(l, "* OK") {
		nc.Close()
		return nil, fmt.Errorf("greeting from %s: %q %v", addr, l, err)
	}
	if _, err := c.OK("LOGIN " + quote(user) + " " + quote(pass)); err != nil {
		nc.Close()
		return nil, fmt.Errorf("login %s at %s: %w", user, addr, err)
	}
	return c, nil
}

// Close logs out and closes the connection.
func (c *Client) Close() error {
	_, _, _ = c.Cmd("LOGOUT")
	return c.conn.Close()
}

// Bytes are the IMAP bytes read and written so far.
func (c *Client) Bytes() (in, out int64) { return c.conn.in.Load(), c.conn.out.Load() }

// Cmd sends one command and returns its untagged responses (a literal's
// bytes inline) and the tagged status line without its tag.
func (c *Client) Cmd(cmd string) (untagged []string, status string, err error) {
	c.tag++
	tag := "x" + strconv.Itoa(c.tag)
	_ = c.conn.SetDeadline(time.Now().Add(5 * time.Minute))
	if _, err := io.WriteString(c.conn, tag+" "+cmd+"\r\n"); err != nil {
		return nil, "", err
	}
	for {
		l, err := c.line()
		if err != nil {
			return untagged, "", err
		}
		if strings.HasPrefix(l, tag+" ") {
			return untagged, l[len(tag)+1:], nil
		}
		untagged = append(untagged, l)
	}
}

// OK is Cmd that fails unless the status is OK.
func (c *Client) OK(cmd string) ([]string, error) {
	u, st, err := c.Cmd(cmd)
	if err != nil {
		return u, err
	}
	if !strings.HasPrefix(st, "OK") {
		return u, fmt.Errorf("%s: %s", firstWord(cmd), st)
	}
	return u, nil
}

// line reads one response line; a literal ({n} at its end) is read and
// appended, with the rest of the line after it.
func (c *Client) line() (string, error) {
	var b strings.Builder
	for {
		l, err := c.r.ReadString('\n')
		if err != nil {
			return b.String(), err
		}
		l = strings.TrimRight(l, "\r\n")
		b.WriteString(l)
		n, ok := literalSize(l)
		if !ok {
			return b.String(), nil
		}
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			return b.String(), err
		}
		b.Write(buf)
	}
}

// literalSize is n when l ends in {n} or {n+}.
func literalSize(l string) (int, bool) {
	if !strings.HasSuffix(l, "}") {
		return 0, false
	}
	i := strings.LastIndexByte(l, '{')
	if i < 0 {
		return 0, false
	}
	n, err := strconv.Atoi(strings.TrimSuffix(l[i+1:len(l)-1], "+"))
	if err != nil || n < 0 || n > 64<<20 {
		return 0, false
	}
	return n, true
}

// Capabilities asks CAPABILITY and returns its names in upper case.
func (c *Client) Capabilities() (map[string]bool, error) {
	u, err := c.OK("CAPABILITY")
	if err != nil {
		return nil, err
	}
	caps := map[string]bool{}
	for _, l := range u {
		if f := strings.Fields(l); len(f) > 2 && strings.EqualFold(f[1], "CAPABILITY") {
			for _, c := range f[2:] {
				caps[strings.ToUpper(c)] = true
			}
		}
	}
	return caps, nil
}

func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// code finds a response code [NAME value] in lines and returns value.
func code(lines []string, name string) string {
	for _, l := range lines {
		i := indexFold(l, "["+name+" ")
		if i < 0 {
			continue
		}
		rest := l[i+len(name)+2:]
		if j := strings.IndexByte(rest, ']'); j >= 0 {
			return rest[:j]
		}
	}
	return ""
}

// indexFold is strings.Index ignoring ASCII case. Unlike an index into
// strings.ToUpper(s), it is an index into s itself: upper-casing changes
// the length of invalid UTF-8 and of some letters.
func indexFold(s, substr string) int {
	for i := 0; i+len(substr) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(substr)], substr) {
			return i
		}
	}
	return -1
}
