package rspamd

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/spam/internal/feed"
)

// Client reaches one rspamd normal worker (or proxy).
type Client struct {
	base *url.URL
	http *http.Client
	// Timeout bounds how long the message waits for rspamd to take its
	// next piece (then the check fails); default 10 s. Connecting is
	// bounded by DefaultTimeout, the wait for the verdict by the context
	// given to Finish.
	Timeout time.Duration
}

// DefaultTimeout is Client.Timeout's default.
const DefaultTimeout = 10 * time.Second

// Parse reads --rspamd: the worker's base URL, http or https
// ("http://127.0.0.1:11333").
func Parse(raw string) (*Client, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("rspamd: %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("rspamd: %q: want http://HOST:PORT or https://HOST:PORT (the normal worker's address)", raw)
	}
	c := &Client{base: u}
	c.http = &http.Client{Transport: &http.Transport{
		Proxy:               nil, // rspamd is ours: never through an HTTP proxy
		DialContext:         (&net.Dialer{Timeout: DefaultTimeout}).DialContext,
		TLSHandshakeTimeout: DefaultTimeout,
		MaxIdleConnsPerHost: 16,
		IdleConnTimeout:     time.Minute,
	}}
	return c, nil
}

// String is the base URL.
func (c *Client) String() string { return c.base.String() }

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

func (c *Client) endpoint(path string) string {
	return strings.TrimSuffix(c.base.String(), "/") + path
}

// Ping asks the worker's /ping for "pong".
func (c *Client) Ping(ctx context.Context) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.endpoint("/ping"), nil)
	if err != nil {
		return fmt.Errorf("rspamd: %w", err)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("rspamd: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if resp.StatusCode != http.StatusOK || strings.TrimSpace(string(body)) != "pong" {
		return fmt.Errorf("rspamd %s: /ping: %s %q", c, resp.Status, sanitize(string(body), 80))
	}
	return nil
}

// Request is the envelope sent with a message (rspamd's request headers).
type Request struct {
	From     string   // MAIL FROM; "" for the null reverse-path
	Rcpt     []string // RCPT TO
	IP       string   // the client's address
	Helo     string
	Hostname string // the client's verified PTR name, "unknown", or "" (not sent)
	User     string // the authenticated user, or ""
	QueueID  string
	MTAName  string // our host name
}

func (r Request) headers(h http.Header) {
	set := func(k, v string) {
		if v != "" {
			h.Set(k, headerSafe(v))
		}
	}
	if r.From == "" {
		h.Set("From", "<>")
	} else {
		set("From", r.From)
	}
	for _, rcpt := range r.Rcpt {
		h.Add("Rcpt", headerSafe(rcpt))
	}
	set("IP", r.IP)
	set("Helo", r.Helo)
	set("Hostname", r.Hostname)
	set("User", r.User)
	set("Queue-Id", r.QueueID)
	set("MTA-Name", r.MTAName)
}

// headerSafe keeps an HTTP header value on one line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
}

// Scan is one message being streamed to rspamd. Write feeds it (it never
// fails: trouble is reported by Finish), Finish ends it and returns the
// reply, Abort gives up.
type Scan struct {
	feed   *feed.Feed
	cancel context.CancelFunc
	done   chan struct{}
	reply  *Reply
	err    error
}

// feedChunks is how many of the message's pieces wait for rspamd at most.
const feedChunks = 8

var (
	errAborted  = errors.New("rspamd: check aborted")
	errAnswered = errors.New("rspamd: answered")
)

// Start begins checking a message: the request is made in a goroutine of
// its own; prepare (may be nil) runs there first and may fill in the
// request (a PTR look-up), while the message's first pieces wait in the
// feed.
func (c *Client) Start(ctx context.Context, req Request, prepare func(context.Context, *Request)) *Scan {
	ctx, cancel := context.WithCancel(ctx)
	s := &Scan{feed: feed.New(feedChunks, c.timeout()), cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(s.done)
		if prepare != nil {
			prepare(ctx, &req)
		}
		s.reply, s.err = c.check(ctx, req, s.feed)
		// Whatever rspamd said, the message's later pieces (if it
		// answered early) are dropped.
		s.feed.Fail(cmp.Or(s.err, errAnswered))
	}()
	return s
}

// Write feeds the next piece of the message.
func (s *Scan) Write(p []byte) (int, error) { return s.feed.Write(p) }

// Finish ends the message and waits, within ctx, for rspamd's reply.
func (s *Scan) Finish(ctx context.Context) (*Reply, error) {
	s.feed.Close()
	defer s.cancel()
	select {
	case <-s.done:
		return s.reply, s.err
	case <-ctx.Done():
		s.cancel()
		<-s.done
		return nil, fmt.Errorf("rspamd: no reply in time: %w", context.Cause(ctx))
	}
}

// Abort stops the check without a reply.
func (s *Scan) Abort() {
	s.feed.Fail(errAborted)
	s.cancel()
}

// Check sends r to rspamd and returns its reply.
func (c *Client) Check(ctx context.Context, req Request, r io.Reader) (*Reply, error) {
	s := c.Start(ctx, req, nil)
	if _, err := io.Copy(s, r); err != nil {
		s.Abort()
		return nil, fmt.Errorf("rspamd: read the message: %w", err)
	}
	return s.Finish(ctx)
}

// HTTPError is a /checkv2 answer other than 200.
type HTTPError struct {
	Status int
	Body   string
}

func (e *HTTPError) Error() string { return fmt.Sprintf("HTTP %d %q", e.Status, e.Body) }

// check posts one message to /checkv2, its body read from f as it comes
// (chunked transfer encoding).
func (c *Client) check(ctx context.Context, r Request, f *feed.Feed) (*Reply, error) {
	// The body is f itself, wrapped so that net/http does not see a
	// known length (chunked) and cannot close the Feed under the writer.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint("/checkv2"), io.NopCloser(f))
	if err != nil {
		return nil, fmt.Errorf("rspamd: %w", err)
	}
	req.ContentLength = -1
	r.headers(req.Header)
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, fmt.Errorf("rspamd %s: %w", c, context.Cause(ctx))
		}
		if ferr := f.Err(); ferr != nil {
			return nil, fmt.Errorf("rspamd %s: %w", c, ferr)
		}
		return nil, fmt.Errorf("rspamd %s: %w", c, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxReplyBytes))
	if err != nil {
		return nil, fmt.Errorf("rspamd %s: read the reply: %w", c, err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("rspamd %s: %w", c, &HTTPError{Status: resp.StatusCode, Body: sanitize(string(body), 120)})
	}
	reply, err := ParseReply(body)
	if err != nil {
		return nil, fmt.Errorf("rspamd %s: %w", c, err)
	}
	return reply, nil
}
