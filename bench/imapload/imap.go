package imapload

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// Conn says how to reach a server.
type Conn struct {
	Addr     string
	StartTLS bool // STARTTLS before LOGIN (certificate not verified: loopback benchmark)
	Password string
	// LocalAddr, when set, is the source address to connect from.
	LocalAddr string
	// Handler receives unilateral data (EXISTS, EXPUNGE, FETCH FLAGS);
	// nil: go-imap keeps only the selected mailbox's message count.
	Handler *imapclient.UnilateralDataHandler
}

// Dial connects and logs in as user.
func (c Conn) Dial(user string) (*imapclient.Client, error) {
	d := &net.Dialer{Timeout: 30 * time.Second}
	if c.LocalAddr != "" {
		d.LocalAddr = &net.TCPAddr{IP: net.ParseIP(c.LocalAddr)}
	}
	opts := &imapclient.Options{
		Dialer:                d,
		TLSConfig:             &tls.Config{InsecureSkipVerify: true}, //nolint:gosec // loopback benchmark, self-signed
		UnilateralDataHandler: c.Handler,
	}
	var (
		cl  *imapclient.Client
		err error
	)
	if c.StartTLS {
		cl, err = imapclient.DialStartTLS(c.Addr, opts)
	} else {
		cl, err = imapclient.DialInsecure(c.Addr, opts)
	}
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", c.Addr, err)
	}
	if err := cl.Login(user, c.Password).Wait(); err != nil {
		cl.Close()
		return nil, fmt.Errorf("login %s at %s: %w", user, c.Addr, err)
	}
	return cl, nil
}

// FillConfig is one fill: Messages messages APPENDed to each user's INBOX.
type FillConfig struct {
	Conns []Conn // one per server node; connection k goes to Conns[k % len]
	Users []string
	// Messages per user; message i of a user is Message(user, i), or
	// Make(user, i) when Make is set.
	Messages    int
	Make        func(user string, i int) []byte
	Connections int // concurrent connections in all
	// Attempts is how many times one APPEND (or the login before it) is
	// tried in all; default 8. Only temporary failures are retried: a
	// NO [UNAVAILABLE] (Surat's answer when a commit could not be made:
	// no leader, no quorum, a timeout) or a lost connection, which is
	// opened again on the next of Conns. Backoff starts at 100 ms and
	// doubles up to 2 s.
	Attempts int
}

// FillResult is what a fill did.
type FillResult struct {
	Appended int `json:"appended"`
	// Retries counts APPENDs and logins tried again after a temporary
	// failure, by what they met (RetryKinds).
	Retries    int            `json:"retries"`
	RetryKinds map[string]int `json:"retry_kinds,omitempty"`
}

// fillChunk is how many of one user's messages a connection APPENDs in a
// row: a large mailbox is shared out among the connections, and a
// connection logs in once per chunk, not per message.
const fillChunk = 200

// Fill APPENDs cfg.Messages messages to every user's INBOX over
// cfg.Connections connections. Each connection takes chunks of fillChunk
// messages of one user, logged in as that user. Temporary failures are
// retried as a client would (see FillConfig.Attempts); it stops at the
// first failure that is not, or that outlasts its attempts. An APPEND whose
// connection broke before its answer may have been stored: its retry can
// leave one message twice, which Surat's ack-after-commit rule makes
// rare (the failure must fall between the commit and the OK).
func Fill(ctx context.Context, cfg FillConfig) (FillResult, error) {
	if cfg.Attempts < 1 {
		cfg.Attempts = 8
	}
	if cfg.Make == nil {
		cfg.Make = Message
	}
	type job struct {
		user     string
		from, to int
	}
	// Cancelled at the first final failure; made before the producer
	// starts, which reads it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	jobs := make(chan job, 1024)
	go func() {
		defer close(jobs)
		for _, u := range cfg.Users {
			for i := 0; i < cfg.Messages; i += fillChunk {
				select {
				case jobs <- job{u, i, min(i+fillChunk, cfg.Messages)}:
				case <-ctx.Done():
					return
				}
			}
		}
	}()
	var (
		done     atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
		mu       sync.Mutex
		res      = FillResult{}
	)
	fail := func(err error) {
		errOnce.Do(func() { firstErr = err; cancel() })
	}
	retried := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		res.Retries++
		if res.RetryKinds == nil {
			res.RetryKinds = map[string]int{}
		}
		res.RetryKinds[retryKind(err)]++
	}
	for k := range max(cfg.Connections, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f := &filler{conns: cfg.Conns, next: k, attempts: cfg.Attempts, retried: retried}
			defer f.close()
			for j := range jobs {
				if ctx.Err() != nil {
					return
				}
				for i := j.from; i < j.to; i++ {
					if err := f.append(ctx, j.user, cfg.Make(j.user, i)); err != nil {
						fail(fmt.Errorf("APPEND %s #%d: %w", j.user, i, err))
						return
					}
					done.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	res.Appended = int(done.Load())
	return res, firstErr
}

// filler is one fill connection: logged in as user on conns[next % len],
// reopened (on the next address) when it breaks.
type filler struct {
	conns    []Conn
	next     int
	attempts int
	retried  func(error)
	cl       *imapclient.Client
	user     string
	addr     string
}

func (f *filler) close() {
	if f.cl != nil {
		_ = f.cl.Logout().Wait()
		f.cl.Close()
		f.cl = nil
	}
}

// append stores msg in user's INBOX, logging in first if needed, and
// retries temporary failures with backoff.
func (f *filler) append(ctx context.Context, user string, msg []byte) error {
	wait := 100 * time.Millisecond
	for attempt := 1; ; attempt++ {
		err := f.try(user, msg)
		if err == nil {
			return nil
		}
		if !temporary(err) || attempt >= f.attempts {
			return fmt.Errorf("on %s, attempt %d: %w", f.addr, attempt, err)
		}
		f.retried(err)
		if errors.Is(err, errClosed) || !isIMAPStatus(err) {
			// The connection is gone or unusable: open another, on the
			// next node (a client would try the next address too).
			if f.cl != nil {
				f.cl.Close()
				f.cl = nil
			}
			f.next++
		}
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return ctx.Err()
		}
		wait = min(2*wait, 2*time.Second)
	}
}

func (f *filler) try(user string, msg []byte) error {
	if f.cl != nil && (f.user != user || closed(f.cl)) {
		f.close()
	}
	if f.cl == nil {
		conn := f.conns[f.next%len(f.conns)]
		f.addr = conn.Addr
		cl, err := conn.Dial(user)
		if err != nil {
			return err
		}
		f.cl, f.user = cl, user
	}
	err := appendMessage(f.cl, msg)
	if err != nil && closed(f.cl) {
		return fmt.Errorf("%w: %v", errClosed, err)
	}
	return err
}

// temporary reports whether a client should try again: NO [UNAVAILABLE]
// (RFC 9051 §7.1: a temporary failure), or the connection failed (closed,
// refused, reset, timed out, or the server said BYE). A NO or BAD with any
// other code is final.
func temporary(err error) bool {
	var ie *imap.Error
	if errors.As(err, &ie) {
		return ie.Type == imap.StatusResponseTypeNo && ie.Code == imap.ResponseCodeUnavailable ||
			ie.Type == imap.StatusResponseTypeBye
	}
	return true
}

func isIMAPStatus(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie) && ie.Type != imap.StatusResponseTypeBye
}

// retryKind names a retried failure for the report: the status and code,
// or the kind of connection failure.
func retryKind(err error) string {
	var ie *imap.Error
	if errors.As(err, &ie) {
		if ie.Code != "" {
			return fmt.Sprintf("%s [%s]", ie.Type, ie.Code)
		}
		return string(ie.Type)
	}
	var ne net.Error
	switch msg := err.Error(); {
	case errors.Is(err, errClosed):
		return "connection closed"
	case errors.As(err, &ne) && ne.Timeout():
		return "timeout"
	case strings.Contains(msg, "connection refused"):
		return "connection refused"
	case strings.Contains(msg, "connection reset"):
		return "connection reset"
	default:
		return "connection failed"
	}
}

func appendMessage(cl *imapclient.Client, msg []byte) error {
	cmd := cl.Append("INBOX", int64(len(msg)), nil)
	if _, err := cmd.Write(msg); err != nil {
		cmd.Close()
		return err
	}
	if err := cmd.Close(); err != nil {
		return err
	}
	_, err := cmd.Wait()
	return err
}

// StaticResult is one round of the single-client commands on a large
// mailbox, each timed from sending the command to its tagged OK.
type StaticResult struct {
	LoginS       float64 `json:"login_s"` // connect, STARTTLS if any, LOGIN
	SelectS      float64 `json:"select_s"`
	Messages     int     `json:"messages"`      // EXISTS after SELECT
	FetchMetaS   float64 `json:"fetch_meta_s"`  // UID FETCH 1:* (FLAGS RFC822.SIZE ENVELOPE)
	MetaMessages int     `json:"meta_messages"` // responses with an ENVELOPE
	FetchBodyS   float64 `json:"fetch_body_s"`  // UID FETCH 1:* (BODY.PEEK[])
	BodyMessages int     `json:"body_messages"`
	BodyBytes    int64   `json:"body_bytes"`
	SearchHdrS   float64 `json:"search_header_s"` // UID SEARCH HEADER Subject SubjectWord
	SearchHdrN   int     `json:"search_header_n"`
	SearchBodyS  float64 `json:"search_body_s"` // UID SEARCH BODY BodyWord
	SearchBodyN  int     `json:"search_body_n"`
}

// Static runs one round on user's INBOX on a new connection: login,
// SELECT, the metadata fetch, the body fetch, the two searches, LOGOUT.
// step, if set, is called before each timed command with its name and
// after it (name "") so that the caller can read the server's CPU.
func Static(c Conn, user string, step func(name string)) (*StaticResult, error) {
	if step == nil {
		step = func(string) {}
	}
	res := &StaticResult{}
	var cl *imapclient.Client
	var err error
	step("login")
	err = timed(&res.LoginS, func() error { cl, err = c.Dial(user); return err })
	step("")
	if err != nil {
		return nil, err
	}
	defer cl.Close()

	step("select")
	err = timed(&res.SelectS, func() error {
		d, err := cl.Select("INBOX", nil).Wait()
		if err == nil {
			res.Messages = int(d.NumMessages)
		}
		return err
	})
	step("")
	if err != nil {
		return nil, fmt.Errorf("SELECT: %w", err)
	}

	all := imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}} // 1:*
	step("fetch_meta")
	err = timed(&res.FetchMetaS, func() error {
		cmd := cl.Fetch(all, &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, Envelope: true})
		for m := cmd.Next(); m != nil; m = cmd.Next() {
			for item := m.Next(); item != nil; item = m.Next() {
				if _, ok := item.(imapclient.FetchItemDataEnvelope); ok {
					res.MetaMessages++
				}
			}
		}
		return cmd.Close()
	})
	step("")
	if err != nil {
		return nil, fmt.Errorf("UID FETCH metadata: %w", err)
	}

	step("fetch_body")
	err = timed(&res.FetchBodyS, func() error {
		cmd := cl.Fetch(all, &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}})
		buf := make([]byte, 32<<10)
		for m := cmd.Next(); m != nil; m = cmd.Next() {
			for item := m.Next(); item != nil; item = m.Next() {
				if b, ok := item.(imapclient.FetchItemDataBodySection); ok && b.Literal != nil {
					res.BodyMessages++
					for {
						n, err := b.Literal.Read(buf)
						res.BodyBytes += int64(n)
						if err != nil {
							break
						}
					}
				}
			}
		}
		return cmd.Close()
	})
	step("")
	if err != nil {
		return nil, fmt.Errorf("UID FETCH bodies: %w", err)
	}

	step("search_header")
	err = timed(&res.SearchHdrS, func() error {
		d, err := cl.UIDSearch(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: SubjectWord}}}, nil).Wait()
		if err == nil {
			res.SearchHdrN = len(d.AllUIDs())
		}
		return err
	})
	step("")
	if err != nil {
		return nil, fmt.Errorf("UID SEARCH HEADER: %w", err)
	}

	step("search_body")
	err = timed(&res.SearchBodyS, func() error {
		d, err := cl.UIDSearch(&imap.SearchCriteria{Body: []string{BodyWord}}, nil).Wait()
		if err == nil {
			res.SearchBodyN = len(d.AllUIDs())
		}
		return err
	})
	step("")
	if err != nil {
		return nil, fmt.Errorf("UID SEARCH BODY: %w", err)
	}
	_ = cl.Logout().Wait()
	return res, nil
}

func timed(d *float64, fn func() error) error {
	t := time.Now()
	err := fn()
	*d = time.Since(t).Seconds()
	return err
}

// errClosed is returned for a command on a connection the server closed.
var errClosed = errors.New("connection closed")
