package clamd

import (
	"bytes"
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/spam/internal/feed"
)

// Client reaches one clamd. Its zero value is not usable: use Parse or set
// Network and Address.
type Client struct {
	Network string // "unix" or "tcp"
	Address string // the socket's path, or HOST:PORT
	// Timeout bounds dialing, each write to clamd, and how long the
	// message waits for clamd to take its next piece (then the scan
	// fails); default 10 s. The wait for the verdict after the last byte
	// is bounded by the context given to Finish.
	Timeout time.Duration
}

// DefaultTimeout is Client.Timeout's default.
const DefaultTimeout = 10 * time.Second

// Parse reads an address as --clamd gives it: "unix:PATH" for clamd's
// LocalSocket, or "HOST:PORT" for its TCPSocket.
func Parse(spec string) (*Client, error) {
	if path, ok := strings.CutPrefix(spec, "unix:"); ok {
		if path == "" {
			return nil, fmt.Errorf("clamd: %q: no socket path after unix:", spec)
		}
		return &Client{Network: "unix", Address: path}, nil
	}
	host, port, err := net.SplitHostPort(spec)
	if err != nil {
		return nil, fmt.Errorf("clamd: %q: want unix:PATH or HOST:PORT: %w", spec, err)
	}
	if p, err := strconv.ParseUint(port, 10, 16); err != nil || p == 0 || host == "" {
		return nil, fmt.Errorf("clamd: %q: want unix:PATH or HOST:PORT", spec)
	}
	return &Client{Network: "tcp", Address: spec}, nil
}

// String is the address as --clamd spells it.
func (c *Client) String() string {
	if c.Network == "unix" {
		return "unix:" + c.Address
	}
	return c.Address
}

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// maxReply bounds a reply read from clamd.
const maxReply = 4096

// replyWait is the longest a scan waits for its verdict when its
// caller's context has no deadline.
const replyWait = 5 * time.Minute

func (c *Client) dial(ctx context.Context) (net.Conn, error) {
	d := net.Dialer{Timeout: c.timeout()}
	conn, err := d.DialContext(ctx, c.Network, c.Address)
	if err != nil {
		return nil, fmt.Errorf("clamd: %w", err)
	}
	return conn, nil
}

// command sends one "z" command and returns its reply, on a connection of
// its own.
func (c *Client) command(ctx context.Context, cmd string) (string, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	deadline := time.Now().Add(c.timeout())
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = conn.SetDeadline(deadline)
	if _, err := conn.Write([]byte("z" + cmd + "\x00")); err != nil {
		return "", c.ioError(ctx, err)
	}
	reply, err := readReply(conn)
	if err != nil {
		return "", c.ioError(ctx, err)
	}
	return reply, nil
}

// Ping asks clamd for PONG (clamd(8) PING).
func (c *Client) Ping(ctx context.Context) error {
	reply, err := c.command(ctx, "PING")
	if err != nil {
		return err
	}
	if reply != "PONG" {
		return fmt.Errorf("clamd %s: %w", c, &ReplyError{Reply: reply})
	}
	return nil
}

// Version returns clamd's version line ("ClamAV 1.4.3/...").
func (c *Client) Version(ctx context.Context) (string, error) {
	return c.command(ctx, "VERSION")
}

// ioError is err with the context's cause when the context ended the
// connection.
func (c *Client) ioError(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("clamd %s: %w", c, context.Cause(ctx))
	}
	return fmt.Errorf("clamd %s: %w", c, err)
}

// readReply reads one reply up to its terminator (NUL, or LF for clamd's
// older command forms) or the connection's end.
func readReply(r io.Reader) (string, error) {
	var buf []byte
	tmp := make([]byte, 512)
	for len(buf) < maxReply {
		n, err := r.Read(tmp)
		buf = append(buf, tmp[:n]...)
		if i := bytes.IndexAny(buf, "\x00\n"); i >= 0 {
			return string(buf[:i]), nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) && len(buf) > 0 {
				return string(buf), nil
			}
			if errors.Is(err, io.EOF) {
				return "", errors.New("connection closed without a reply")
			}
			return "", err
		}
	}
	return "", fmt.Errorf("reply longer than %d bytes", maxReply)
}

// Scan is one message being streamed to clamd (INSTREAM). Write feeds it
// (it never fails: a scan that went wrong says so in Finish); Finish ends
// the stream and returns the verdict; Abort gives up.
type Scan struct {
	feed   *feed.Feed
	cancel context.CancelFunc
	done   chan struct{}
	res    Result
	err    error
}

// feedChunks is how many of the message's pieces (each at most one read
// of the SMTP server, 32 KiB) wait for clamd at most.
const feedChunks = 8

// errAborted stops the scan of a message that will not be delivered.
var (
	errAborted  = errors.New("clamd: scan aborted")
	errAnswered = errors.New("clamd: answered")
)

// Start begins a scan: it connects and streams in a goroutine of its own,
// ended by Finish, Abort or ctx.
func (c *Client) Start(ctx context.Context) *Scan {
	ctx, cancel := context.WithCancel(ctx)
	s := &Scan{feed: feed.New(feedChunks, c.timeout()), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		s.res, s.err = c.stream(ctx, s.feed)
		// The message's later pieces, if any, are dropped from now on.
		s.feed.Fail(cmp.Or(s.err, errAnswered))
	}()
	return s
}

// Write feeds the next piece of the message.
func (s *Scan) Write(p []byte) (int, error) { return s.feed.Write(p) }

// Finish ends the stream and waits, within ctx, for clamd's verdict.
func (s *Scan) Finish(ctx context.Context) (Result, error) {
	s.feed.Close()
	defer s.cancel()
	select {
	case <-s.done:
		return s.res, s.err
	case <-ctx.Done():
		s.cancel()
		<-s.done // the connection is closed: the goroutine ends
		return Result{}, fmt.Errorf("clamd: no verdict in time: %w", context.Cause(ctx))
	}
}

// Abort stops the scan without a verdict.
func (s *Scan) Abort() {
	s.feed.Fail(errAborted)
	s.cancel()
}

// Scan streams r to clamd and returns its verdict.
func (c *Client) Scan(ctx context.Context, r io.Reader) (Result, error) {
	s := c.Start(ctx)
	if _, err := io.Copy(s, r); err != nil {
		s.Abort()
		return Result{}, fmt.Errorf("clamd: read the message: %w", err)
	}
	return s.Finish(ctx)
}

// stream runs one INSTREAM: the command, the chunks from f as they come,
// the zero-length chunk, the reply (clamd(8), INSTREAM).
func (c *Client) stream(ctx context.Context, f *feed.Feed) (Result, error) {
	conn, err := c.dial(ctx)
	if err != nil {
		return Result{}, err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	write := func(bufs net.Buffers) error {
		_ = conn.SetWriteDeadline(time.Now().Add(c.timeout()))
		_, err := bufs.WriteTo(conn)
		return err
	}
	if err := write(net.Buffers{[]byte("zINSTREAM\x00")}); err != nil {
		return Result{}, c.ioError(ctx, err)
	}
	var size [4]byte
	for {
		b, err := f.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return Result{}, err // aborted or stalled
		}
		binary.BigEndian.PutUint32(size[:], uint32(len(b)))
		if err := write(net.Buffers{size[:], b}); err != nil {
			return Result{}, c.afterWriteError(ctx, conn, err)
		}
	}
	binary.BigEndian.PutUint32(size[:], 0) // the end of the stream
	if err := write(net.Buffers{size[:]}); err != nil {
		return Result{}, c.afterWriteError(ctx, conn, err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(replyWait))
	reply, err := readReply(conn)
	if err != nil {
		return Result{}, c.ioError(ctx, err)
	}
	res, err := parseReply(reply)
	if err != nil {
		return Result{}, fmt.Errorf("clamd %s: %w", c, err)
	}
	return res, nil
}

// afterWriteError explains a failed write: clamd closes the connection
// after telling a client that its stream passed StreamMaxLength, so the
// reply, if there is one, says why.
func (c *Client) afterWriteError(ctx context.Context, conn net.Conn, werr error) error {
	if ctx.Err() == nil {
		_ = conn.SetReadDeadline(time.Now().Add(time.Second))
		if reply, err := readReply(conn); err == nil {
			if _, perr := parseReply(reply); perr != nil {
				return fmt.Errorf("clamd %s: %w", c, perr)
			}
		}
	}
	return c.ioError(ctx, werr)
}
