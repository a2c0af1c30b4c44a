// Package smtpload is an SMTP ingest load generator for benchmarks: N
// concurrent senders, each opening a new TCP connection per message (as
// Postfix's smtp-source does by default), EHLO, optionally STARTTLS, one
// MAIL FROM, one RCPT TO, DATA with a generated message, QUIT. For every
// message it times the end of data, from writing the final "." line to
// reading the reply (the time a server takes to make the message durable
// before it says 250, RFC 5321 §4.1.1.4), and counts what was accepted and
// what was refused.
//
// It talks only to the addresses it is given (the benchmarks give it
// loopback ones) and stops after a fixed number of messages or a time
// bound, whichever comes first. With Config.Attempts above one it retries
// a message as a sending MTA does: after a temporary failure (a 4xx reply,
// a refused, reset or timed-out connection) it waits a backoff and tries
// the next address; a 5xx is final. Retries are counted apart, so a run
// shows how many messages needed them and why.
//
// It must not be imported by the server; it knows nothing of Surat beyond
// the Prometheus metric names in metrics.go, and measures any SMTP server
// the same way (the bench script runs it against Surat and against
// Postfix).
package smtpload

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config is one load run.
type Config struct {
	Addrs    []string      // SMTP servers; message n goes to Addrs[n % len(Addrs)] (see PerSender)
	Senders  int           // concurrent senders
	Messages int           // total messages over all senders
	Duration time.Duration // no new message is started after this; 0: no bound
	Timeout  time.Duration // per read or write; default 30 s

	From, To string // envelope and header addresses
	Helo     string // EHLO name; default "smtpload.bench.test"
	BodySize int    // message body bytes, headers excluded; default 4096
	StartTLS bool   // STARTTLS before MAIL (certificate not verified: loopback benchmark)
	// PerSender pins sender i to Addrs[i % len(Addrs)] instead of taking
	// the servers in turn message by message (as a sending MTA does among
	// equal MX records), so that each server sees a fixed share of the
	// concurrency.
	PerSender bool
	// Sources > 0 gives the senders that many loopback source addresses,
	// 127.0.1.1 to 127.0.1.Sources, sender i binding the (i % Sources)th,
	// as if they were different sending hosts (a server may limit the
	// sessions of one client address). 0: the kernel picks (127.0.0.1).
	Sources int
	// Samples, when set, gets one CSV line per message after the run:
	// at_ms (the final "." sent, from the start; 0 if never sent), addr,
	// accepted, data_end_ms, session_ms, attempts, error.
	Samples io.Writer
	// Recipients, when set, replaces To: message n (from 1) goes to
	// Recipients[(n-1) % len], to spread deliveries over many users.
	Recipients []string
	// Attempts is how many times a message is tried in all (0 or 1: once).
	// A retry follows a temporary failure only and goes to the next
	// address of Addrs: at once when the host could not be reached,
	// otherwise (and after every address was tried) after RetryBackoff
	// (default 50 ms) doubled at each further wait up to 2 s.
	Attempts     int
	RetryBackoff time.Duration
	// Bucket > 0 fills Result.Timeline: acknowledgements and failed
	// attempts per Bucket of the run.
	Bucket time.Duration
	// Corpus, when set, replaces the generated messages: message n (from
	// 1) is Corpus[(n-1) % len(Corpus)], sent as it is but for
	// dot-stuffing and a final CRLF if it lacks one, so that what costs
	// time to make (a DKIM signature, say) is made before the run.
	// From and To stay the envelope; BodySize is only reported.
	Corpus [][]byte
}

// maxBackoff bounds the wait between two attempts of one message.
const maxBackoff = 2 * time.Second

// Result is what one run measured. Durations are in milliseconds or
// seconds as the field names say, for the JSON a bench script keeps.
type Result struct {
	Label     string    `json:"label"`
	Started   time.Time `json:"started"`
	Senders   int       `json:"senders"`
	Addrs     []string  `json:"addrs"`
	PerSender bool      `json:"per_sender,omitempty"`
	Sources   int       `json:"sources,omitempty"`
	StartTLS  bool      `json:"starttls"`
	BodySize  int       `json:"body_size"`
	Attempted int       `json:"attempted"`
	Accepted  int       `json:"accepted"`
	Errors    int       `json:"errors"`
	// ErrorKinds counts errors by stage and reply ("DATA-end 451",
	// "connect: ...", ...).
	ErrorKinds map[string]int `json:"error_kinds,omitempty"`
	// Retries is the number of attempts after a message's first (only with
	// Config.Attempts > 1), RetriedMessages how many messages needed any,
	// and RetryKinds what the failed attempts met, as ErrorKinds.
	Retries         int            `json:"retries"`
	RetriedMessages int            `json:"retried_messages"`
	RetryKinds      map[string]int `json:"retry_kinds,omitempty"`
	// Timeline (Config.Bucket > 0): what happened in each bucket of the run.
	Timeline *Timeline `json:"timeline,omitempty"`
	// WallS is from the first connection to the last sender's end (after
	// its QUIT); AcceptedPerS is Accepted / WallS.
	WallS        float64 `json:"wall_s"`
	AcceptedPerS float64 `json:"accepted_per_s"`
	// End of DATA ("." sent) to the 250, accepted messages only.
	P50Ms float64 `json:"data_end_p50_ms"`
	P90Ms float64 `json:"data_end_p90_ms"`
	P99Ms float64 `json:"data_end_p99_ms"`
	MaxMs float64 `json:"data_end_max_ms"`
	// Whole session, connect to QUIT's reply, accepted messages only.
	SessionP50Ms float64 `json:"session_p50_ms"`
	SessionP99Ms float64 `json:"session_p99_ms"`

	// End to end (filled by WaitMaildir): messages found in the maildirs
	// and the time from Started until the last of them was seen.
	Delivered  int     `json:"delivered,omitempty"`
	E2ES       float64 `json:"e2e_s,omitempty"`
	E2EPerS    float64 `json:"e2e_per_s,omitempty"`
	E2ETimeout bool    `json:"e2e_timeout,omitempty"`

	// Resources over the run (filled by the caller: see CPU and Metrics).
	Load1Before float64 `json:"load1_before"`
	Load1After  float64 `json:"load1_after"`
	MachineBusy float64 `json:"machine_busy,omitempty"` // fraction of all cores busy
	// OtherCPUS is the machine's busy CPU time over the run less the
	// named process trees' and this process's: what else ran meanwhile.
	OtherCPUS  float64            `json:"other_cpu_s,omitempty"`
	ClientCPUS float64            `json:"client_cpu_s,omitempty"` // this process, user+sys
	ProcCPUS   map[string]float64 `json:"proc_cpu_s,omitempty"`   // per named process tree, user+sys
	Server     *ServerMetrics     `json:"server_metrics,omitempty"`
	Note       string             `json:"note,omitempty"`
}

// Timeline is a run cut into equal buckets from its start: in each, how
// many messages were acknowledged (the 250 after DATA read) and how many
// attempts failed (the failure seen).
type Timeline struct {
	BucketMs float64 `json:"bucket_ms"`
	Accepted []int   `json:"accepted"`
	Failed   []int   `json:"failed"`
}

// sample is one message's outcome (its last attempt's, with the earlier
// failures).
type sample struct {
	addr     string
	at       time.Duration // "." written, from the start of the run
	accepted bool
	dataEnd  time.Duration // "." written → final reply read
	session  time.Duration // first connect → end of the last attempt
	errKind  string
	attempts int
	// connectFailed: the last attempt could not connect at all.
	connectFailed bool
	// failures: when each failed attempt ended (from the start of the
	// run), and what it met.
	failures []failure
}

type failure struct {
	at   time.Duration
	kind string
}

// Run sends cfg.Messages messages (or as many as fit in cfg.Duration) and
// returns what it measured. It returns an error only for a bad Config;
// failures of the server under test are counted in the Result.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if len(cfg.Addrs) == 0 || cfg.Senders < 1 || cfg.Messages < 1 || cfg.From == "" || (cfg.To == "" && len(cfg.Recipients) == 0) {
		return nil, errors.New("smtpload: need addresses, senders >= 1, messages >= 1, from and to")
	}
	if cfg.Attempts < 1 {
		cfg.Attempts = 1
	}
	if cfg.RetryBackoff <= 0 {
		cfg.RetryBackoff = 50 * time.Millisecond
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Helo == "" {
		cfg.Helo = "smtpload.bench.test"
	}
	if cfg.BodySize == 0 {
		cfg.BodySize = 4096
	}
	if cfg.Sources < 0 || cfg.Sources > 254 {
		return nil, errors.New("smtpload: sources is 0 to 254")
	}
	if cfg.BodySize < 2 {
		return nil, errors.New("smtpload: the body is at least 2 bytes (one empty line)")
	}
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	var (
		next    atomic.Int64 // messages handed out so far
		mu      sync.Mutex
		samples = make([]sample, 0, min(cfg.Messages, 1<<16))
		wg      sync.WaitGroup
		tlsConf = &tls.Config{
			InsecureSkipVerify: true, // loopback benchmark against self-signed certificates
			ClientSessionCache: tls.NewLRUClientSessionCache(64),
		}
	)
	start := time.Now()
	for i := range cfg.Senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := &sender{cfg: &cfg, tls: tlsConf,
				rng: rand.New(rand.NewPCG(uint64(i), uint64(start.UnixNano())))}
			s.dialer.Timeout = cfg.Timeout
			if cfg.Sources > 0 {
				s.dialer.LocalAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 1, byte(i%cfg.Sources+1))}
			}
			for ctx.Err() == nil {
				n := next.Add(1)
				if n > int64(cfg.Messages) {
					return
				}
				first := int(n - 1)
				if cfg.PerSender {
					first = i
				}
				sm := s.deliver(ctx, int(n), first, start)
				mu.Lock()
				samples = append(samples, sm)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start)
	if cfg.Samples != nil {
		w := bufio.NewWriter(cfg.Samples)
		fmt.Fprintln(w, "at_ms,addr,accepted,data_end_ms,session_ms,attempts,error")
		for _, sm := range samples {
			fmt.Fprintf(w, "%.3f,%s,%t,%.3f,%.3f,%d,%q\n", ms(sm.at), sm.addr, sm.accepted, ms(sm.dataEnd), ms(sm.session), sm.attempts, sm.errKind)
		}
		if err := w.Flush(); err != nil {
			return nil, fmt.Errorf("smtpload: samples: %w", err)
		}
	}
	return summarise(cfg, start, wall, samples), nil
}

func summarise(cfg Config, start time.Time, wall time.Duration, samples []sample) *Result {
	r := &Result{Started: start, Senders: cfg.Senders, Addrs: cfg.Addrs, PerSender: cfg.PerSender, Sources: cfg.Sources, StartTLS: cfg.StartTLS,
		BodySize: cfg.BodySize, Attempted: len(samples), WallS: wall.Seconds()}
	var dataEnd, session []time.Duration
	for _, s := range samples {
		if s.attempts > 1 {
			r.RetriedMessages++
			r.Retries += s.attempts - 1
		}
		// Every failed attempt but a failed message's last was retried.
		for _, f := range s.failures[:min(len(s.failures), max(s.attempts-1, 0))] {
			if r.RetryKinds == nil {
				r.RetryKinds = map[string]int{}
			}
			r.RetryKinds[f.kind]++
		}
		if s.accepted {
			r.Accepted++
			dataEnd = append(dataEnd, s.dataEnd)
			session = append(session, s.session)
			continue
		}
		r.Errors++
		if r.ErrorKinds == nil {
			r.ErrorKinds = map[string]int{}
		}
		r.ErrorKinds[s.errKind]++
	}
	if wall > 0 {
		r.AcceptedPerS = float64(r.Accepted) / wall.Seconds()
	}
	r.P50Ms = ms(Percentile(dataEnd, 50))
	r.P90Ms = ms(Percentile(dataEnd, 90))
	r.P99Ms = ms(Percentile(dataEnd, 99))
	r.MaxMs = ms(Percentile(dataEnd, 100))
	r.SessionP50Ms = ms(Percentile(session, 50))
	r.SessionP99Ms = ms(Percentile(session, 99))
	if cfg.Bucket > 0 {
		r.Timeline = timeline(cfg.Bucket, wall, samples)
	}
	return r
}

// timeline counts acknowledgements (when the 250 was read) and failed
// attempts (when the failure was seen) per bucket of the run.
func timeline(bucket, wall time.Duration, samples []sample) *Timeline {
	n := int(wall/bucket) + 1
	t := &Timeline{BucketMs: ms(bucket), Accepted: make([]int, n), Failed: make([]int, n)}
	slot := func(d time.Duration) int { return min(max(int(d/bucket), 0), n-1) }
	for _, s := range samples {
		if s.accepted {
			t.Accepted[slot(s.at+s.dataEnd)]++
		}
		for _, f := range s.failures {
			t.Failed[slot(f.at)]++
		}
	}
	return t
}

// Percentile is the nearest-rank percentile (0 < p <= 100) of d, which it
// sorts in place; zero for none.
func Percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	slices.Sort(d)
	rank := int(float64(len(d))*p/100+0.999999) - 1
	return d[min(max(rank, 0), len(d)-1)]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// sender is one concurrent client; it sends one message per connection.
type sender struct {
	cfg    *Config
	dialer net.Dialer
	addr   string
	tls    *tls.Config
	rng    *rand.Rand
	msg    []byte // reused buffer
}

// replyError is a reply outside the expected class, or an I/O failure, at
// one stage of the session.
type replyError struct {
	stage string
	code  int // 0: I/O or protocol error
	err   error
}

func (e *replyError) Error() string {
	if e.code != 0 {
		return fmt.Sprintf("%s %d", e.stage, e.code)
	}
	return fmt.Sprintf("%s: %v", e.stage, e.err)
}

// kind is the error's key in Result.ErrorKinds: the stage and reply code,
// or the stage and a short reason for I/O failures.
func (e *replyError) kind() string {
	if e.code != 0 {
		return e.Error()
	}
	msg := e.err.Error()
	var ne net.Error
	switch {
	case errors.As(e.err, &ne) && ne.Timeout():
		msg = "timeout"
	case errors.Is(e.err, io.EOF), errors.Is(e.err, io.ErrUnexpectedEOF):
		msg = "connection closed"
	case strings.Contains(msg, "connection refused"):
		msg = "connection refused"
	case strings.Contains(msg, "connection reset"):
		msg = "connection reset"
	}
	return e.stage + ": " + msg
}

// deliver sends message n, retrying temporary failures (up to
// cfg.Attempts in all) on the addresses after Addrs[first].
func (s *sender) deliver(ctx context.Context, n, first int, runStart time.Time) sample {
	begin := time.Now()
	var (
		sm       sample
		failures []failure
		wait     = s.cfg.RetryBackoff
	)
	for attempt := 1; ; attempt++ {
		s.addr = s.cfg.Addrs[(first+attempt-1)%len(s.cfg.Addrs)]
		var temporary bool
		sm, temporary = s.send(n, runStart)
		sm.attempts = attempt
		if sm.accepted {
			break
		}
		failures = append(failures, failure{at: time.Since(runStart), kind: sm.errKind})
		if !temporary || attempt >= s.cfg.Attempts {
			break
		}
		if ctx.Err() != nil {
			// The run is over: a message given up here is not the
			// server's failure alone, and is counted apart.
			sm.errKind = "run ended: " + sm.errKind
			break
		}
		// A host that cannot be reached is skipped at once for the next
		// one, as an MTA walks its MX list in one delivery attempt; once
		// every address has been tried, or after a failure inside a
		// session (a 4xx, a broken connection), it waits. The jitter
		// keeps senders that failed together from coming back together.
		if sm.connectFailed && attempt%len(s.cfg.Addrs) != 0 {
			continue
		}
		d := wait/2 + time.Duration(s.rng.Int64N(int64(wait)))
		wait = min(2*wait, maxBackoff)
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	sm.failures = failures
	sm.session = time.Since(begin)
	return sm
}

// send makes one attempt at message n on s.addr. temporary says whether a
// failure may be retried: a 4xx reply, or the connection failed (refused,
// reset, closed or timed out, possibly after the "." was sent: a real MTA
// retries then too, at the risk of a duplicate).
func (s *sender) send(n int, runStart time.Time) (sample, bool) {
	sm := sample{addr: s.addr}
	err := s.session(n, runStart, &sm)
	if err == nil {
		return sm, false
	}
	sm.accepted = false
	var re *replyError
	if errors.As(err, &re) {
		sm.errKind = re.kind()
		sm.connectFailed = re.stage == "connect"
		return sm, re.code == 0 || re.code/100 == 4
	}
	sm.errKind = err.Error()
	return sm, false
}

// session runs one SMTP transaction on a fresh connection. sm.accepted is
// set when the server said 250 to the end of data, even if QUIT then fails
// (the message is the server's from that moment).
func (s *sender) session(n int, runStart time.Time, sm *sample) error {
	conn, err := s.dialer.Dial("tcp", s.addr)
	if err != nil {
		return &replyError{stage: "connect", err: err}
	}
	defer conn.Close()
	c := newClientConn(conn, s.cfg.Timeout)
	if err := c.expect("greeting", 2); err != nil {
		return err
	}
	if err := c.cmd("EHLO", 2, "EHLO %s", s.cfg.Helo); err != nil {
		return err
	}
	if s.cfg.StartTLS {
		if err := c.cmd("STARTTLS", 2, "STARTTLS"); err != nil {
			return err
		}
		tc := tls.Client(conn, s.tls)
		tc.SetDeadline(time.Now().Add(s.cfg.Timeout))
		if err := tc.Handshake(); err != nil {
			return &replyError{stage: "TLS handshake", err: err}
		}
		c = newClientConn(tc, s.cfg.Timeout)
		if err := c.cmd("EHLO", 2, "EHLO %s", s.cfg.Helo); err != nil {
			return err
		}
	}
	to := s.cfg.To
	if len(s.cfg.Recipients) > 0 {
		to = s.cfg.Recipients[(n-1)%len(s.cfg.Recipients)]
	}
	if len(s.cfg.Corpus) > 0 {
		s.msg = appendStuffed(s.msg[:0], s.cfg.Corpus[(n-1)%len(s.cfg.Corpus)])
	} else {
		s.msg = appendMessage(s.msg[:0], s.rng, n, s.cfg.From, to, s.cfg.BodySize)
	}
	if err := c.cmd("MAIL", 2, "MAIL FROM:<%s> SIZE=%d", s.cfg.From, len(s.msg)); err != nil {
		return err
	}
	if err := c.cmd("RCPT", 2, "RCPT TO:<%s>", to); err != nil {
		return err
	}
	if err := c.cmd("DATA", 3, "DATA"); err != nil {
		return err
	}
	// The message is dot-stuffed: generated ones have no line starting
	// with '.', and a Corpus message was stuffed by appendStuffed.
	if err := c.write(s.msg); err != nil {
		return &replyError{stage: "DATA-body", err: err}
	}
	if err := c.flush(); err != nil {
		return &replyError{stage: "DATA-body", err: err}
	}
	t0 := time.Now()
	sm.at = t0.Sub(runStart)
	if err := c.cmd("DATA-end", 2, "."); err != nil {
		return err
	}
	sm.dataEnd = time.Since(t0)
	sm.accepted = true
	if err := c.cmd("QUIT", 2, "QUIT"); err != nil {
		// Counted in the session time only: the message was accepted.
		return nil
	}
	return nil
}

// clientConn reads replies and writes commands with a deadline on each.
type clientConn struct {
	conn    net.Conn
	r       *bufio.Reader
	w       *bufio.Writer
	timeout time.Duration
}

func newClientConn(conn net.Conn, timeout time.Duration) *clientConn {
	return &clientConn{conn: conn, r: bufio.NewReader(conn), w: bufio.NewWriterSize(conn, 8<<10), timeout: timeout}
}

func (c *clientConn) write(p []byte) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	_, err := c.w.Write(p)
	return err
}

func (c *clientConn) flush() error {
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	return c.w.Flush()
}

// cmd sends one command line and reads its reply, which must be of class
// want (2 or 3).
func (c *clientConn) cmd(stage string, want int, format string, args ...any) error {
	c.conn.SetWriteDeadline(time.Now().Add(c.timeout))
	fmt.Fprintf(c.w, format, args...)
	c.w.WriteString("\r\n")
	if err := c.w.Flush(); err != nil {
		return &replyError{stage: stage, err: err}
	}
	return c.expect(stage, want)
}

// expect reads one reply, multi-line or not (RFC 5321 §4.2.1), and checks
// its class.
func (c *clientConn) expect(stage string, want int) error {
	code, err := c.reply()
	if err != nil {
		return &replyError{stage: stage, err: err}
	}
	if code/100 != want {
		return &replyError{stage: stage, code: code}
	}
	return nil
}

func (c *clientConn) reply() (int, error) {
	c.conn.SetReadDeadline(time.Now().Add(c.timeout))
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			return 0, err
		}
		line = strings.TrimRight(line, "\r\n")
		if len(line) < 3 {
			return 0, fmt.Errorf("malformed reply %q", line)
		}
		code, err := strconv.Atoi(line[:3])
		if err != nil || code < 200 || code > 599 {
			return 0, fmt.Errorf("malformed reply %q", line)
		}
		if len(line) == 3 || line[3] == ' ' {
			return code, nil
		}
		if line[3] != '-' {
			return 0, fmt.Errorf("malformed reply %q", line)
		}
	}
}

// appendStuffed appends msg with every line that starts with '.' given
// one more (RFC 5321 §4.5.2) and a CRLF at the end if it lacks one, ready
// to be sent between DATA and the final ".".
func appendStuffed(b, msg []byte) []byte {
	for len(msg) > 0 {
		if msg[0] == '.' {
			b = append(b, '.')
		}
		i := bytes.Index(msg, []byte("\r\n"))
		if i < 0 {
			b = append(b, msg...)
			return append(b, '\r', '\n')
		}
		b = append(b, msg[:i+2]...)
		msg = msg[i+2:]
	}
	return b
}

// appendMessage appends message n: a few header fields and a body of
// exactly bodySize (>= 2) bytes in CRLF lines of random letters and digits
// (fresh for each message, so no store can deduplicate or compress it away).
// Lines never start with '.', so the message needs no dot-stuffing.
func appendMessage(b []byte, rng *rand.Rand, n int, from, to string, bodySize int) []byte {
	now := time.Now()
	b = fmt.Appendf(b, "From: <%s>\r\nTo: <%s>\r\nSubject: smtpload message %d\r\nDate: %s\r\n"+
		"Message-ID: <%d.%d@smtpload.bench.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
		from, to, n, now.Format(time.RFC1123Z), n, now.UnixNano())
	return AppendBody(b, rng, bodySize)
}

// AppendBody appends a message body of exactly bodySize (>= 2) bytes in
// CRLF lines of random letters, digits and spaces, none starting with '.'
// or a space: what every generated message carries, for a tool that makes
// its own header section.
func AppendBody(b []byte, rng *rand.Rand, bodySize int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 "
	const lineLen = 76 // + CRLF: 78, under RFC 5322 §2.1.1's recommended 78
	left := bodySize
	for left > 0 {
		// A line is up to lineLen characters and CRLF. Never leave a
		// remainder of one byte, which could not end in CRLF: an empty
		// line ("\r\n") is fine.
		k := min(lineLen, left-2)
		if left-(k+2) == 1 {
			k--
		}
		for j := range k {
			c := alphabet[rng.IntN(len(alphabet))]
			if j == 0 && c == ' ' {
				c = 'x'
			}
			b = append(b, c)
		}
		b = append(b, '\r', '\n')
		left -= k + 2
	}
	return b
}
