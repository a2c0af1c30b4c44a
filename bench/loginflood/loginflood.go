// Package loginflood measures what a flood of wrong IMAP passwords costs a
// real `surat serve` node (started with cluster/faults/proc): its resident
// memory while thousands of connections from many loopback addresses loop
// LOGIN with wrong passwords, and how long real users take to log in
// meanwhile. Every wrong password against a real account (default argon2id
// parameters, as `surat user add` makes them) costs the node a full
// verification, ~19 MiB for ~20-30 ms; unknown names cost one too.
//
// Two kinds of valid login are timed during the flood, one of each every
// half second, each from its own loopback address: a returning user (logged in before from that address:
// the credentials cache and the trusted lane of protocols/login) and
// first-time users (a different account each time, never seen: a full
// verification in the ordinary queue, the worst case).
package loginflood

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/cluster/faults/proc"
	"github.com/surat-mail/surat/protocols/admin"
)

// Config describes one run.
type Config struct {
	Bin      string        // the surat binary
	Dir      string        // data directory (proc)
	Conns    int           // flooding connections; default 2,000
	Sources  int           // loopback addresses they come from (127.1.0.x); default 40
	Duration time.Duration // of the flood; default 20 s
	Accounts int           // real accounts guessed at; default 20
	// RSSLimit kills the node when its RSS passes it (a safety net for
	// measuring builds without a bound); default 4 GiB.
	RSSLimit int64
	Log      func(format string, args ...any)
}

// Result is what a run measured.
type Result struct {
	Date        time.Time     `json:"date"`
	Conns       int           `json:"conns"`
	Sources     int           `json:"sources"`
	Duration    time.Duration `json:"duration"`
	IdleRSS     int64         `json:"idle_rss"`
	PeakRSS     int64         `json:"peak_rss"`
	EndRSS      int64         `json:"end_rss"`
	Killed      bool          `json:"killed"` // RSSLimit reached
	Attempts    int64         `json:"attempts"`
	Replies     map[string]int64
	Returning   Latencies `json:"returning"`
	FirstTime   Latencies `json:"first_time"`
	NodeCrashed bool      `json:"node_crashed"`
}

// Latencies are the valid logins of one kind during the flood.
type Latencies struct {
	OK      []time.Duration `json:"ok"`
	Refused int             `json:"refused"` // a NO (temporary) or an error
}

// Quantile is the q-quantile of the successful logins (0 when none).
func (l Latencies) Quantile(q float64) time.Duration {
	if len(l.OK) == 0 {
		return 0
	}
	s := slices.Clone(l.OK)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

const (
	domain   = "example.test"
	password = "the right password"
)

// Run starts a node, creates the accounts, floods it and measures.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	if cfg.Conns <= 0 {
		cfg.Conns = 2000
	}
	if cfg.Sources <= 0 {
		cfg.Sources = 40
	}
	if cfg.Duration <= 0 {
		cfg.Duration = 20 * time.Second
	}
	if cfg.Accounts <= 0 {
		cfg.Accounts = 20
	}
	if cfg.RSSLimit <= 0 {
		cfg.RSSLimit = 4 << 30
	}
	if cfg.Log == nil {
		cfg.Log = func(string, ...any) {}
	}
	c, err := proc.Start(ctx, proc.Options{Bin: cfg.Bin, Dir: cfg.Dir, Size: 1, Domain: domain, LogLevel: "warn"}, 60*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	node := c.Nodes()[0]
	cl, err := admin.NewClient(node.HTTPURL(), os.Getenv("SURAT_ADMIN_TOKEN"), 0)
	if err != nil {
		return nil, err
	}
	// Real accounts with the server's own (default) hashing.
	const firstTimers = 200
	for i := range cfg.Accounts + firstTimers + 1 {
		if err := cl.AddUser(ctx, account(i), password); err != nil {
			return nil, fmt.Errorf("loginflood: add %s: %w", account(i), err)
		}
	}
	returning := account(cfg.Accounts + firstTimers)
	homeAddr := net.IPv4(127, 0, 0, 2)
	if _, err := validLogin(node.IMAPAddr(), homeAddr, returning); err != nil {
		return nil, fmt.Errorf("loginflood: first login of %s: %w", returning, err)
	}

	res := &Result{Date: time.Now().UTC(), Conns: cfg.Conns, Sources: cfg.Sources, Duration: cfg.Duration,
		Replies: map[string]int64{}}
	time.Sleep(2 * time.Second) // settle after the setup
	if res.IdleRSS, err = proc.RSSBytes(node.PID()); err != nil {
		return nil, err
	}
	cfg.Log("idle RSS %d MiB; flooding with %d connections from %d addresses for %v",
		res.IdleRSS>>20, cfg.Conns, cfg.Sources, cfg.Duration)

	floodCtx, stop := context.WithTimeout(ctx, cfg.Duration)
	defer stop()
	var peak atomic.Int64
	var killed atomic.Bool
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-floodCtx.Done():
				return
			case <-t.C:
			}
			rss, err := proc.RSSBytes(node.PID())
			if err != nil {
				continue
			}
			if rss > peak.Load() {
				peak.Store(rss)
			}
			if rss > cfg.RSSLimit {
				killed.Store(true)
				node.Kill()
				stop()
				return
			}
		}
	}()

	var replies sync.Map
	var attempts atomic.Int64
	count := func(kind string) {
		v, _ := replies.LoadOrStore(kind, new(atomic.Int64))
		v.(*atomic.Int64).Add(1)
	}
	var wg sync.WaitGroup
	for i := range cfg.Conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			src := net.IPv4(127, 1, byte(i%cfg.Sources/250), byte(1+i%cfg.Sources%250))
			flood(floodCtx, node.IMAPAddr(), src, i, cfg.Accounts, &attempts, count)
		}()
	}

	// Valid logins while the flood runs: one of each kind every half
	// second, each on its own (a slow one does not delay the next).
	var mu sync.Mutex
	var valid sync.WaitGroup
	record := func(l *Latencies, d time.Duration, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err != nil {
			l.Refused++
			return
		}
		l.OK = append(l.OK, d)
	}
	time.Sleep(time.Second)
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	for n := 0; floodCtx.Err() == nil; n++ {
		valid.Add(1)
		go func() {
			defer valid.Done()
			d, err := validLogin(node.IMAPAddr(), homeAddr, returning)
			record(&res.Returning, d, err)
		}()
		if n < firstTimers {
			valid.Add(1)
			go func() {
				defer valid.Done()
				src := net.IPv4(127, 0, 1, byte(1+n%250))
				d, err := validLogin(node.IMAPAddr(), src, account(cfg.Accounts+n))
				record(&res.FirstTime, d, err)
			}()
		}
		select {
		case <-floodCtx.Done():
		case <-tick.C:
		}
	}
	valid.Wait()
	wg.Wait()
	<-sampled
	res.PeakRSS, res.Killed, res.Attempts = peak.Load(), killed.Load(), attempts.Load()
	if !res.Killed {
		if !node.Running() {
			res.NodeCrashed = true
		} else if res.EndRSS, err = proc.RSSBytes(node.PID()); err != nil {
			return nil, err
		}
	}
	replies.Range(func(k, v any) bool {
		res.Replies[k.(string)] = v.(*atomic.Int64).Load()
		return true
	})
	return res, nil
}

func account(i int) string { return fmt.Sprintf("u%04d@%s", i, domain) }

// flood loops wrong LOGINs on one connection after another until ctx ends.
func flood(ctx context.Context, addr string, src net.IP, i, accounts int, attempts *atomic.Int64, count func(string)) {
	d := &net.Dialer{Timeout: 10 * time.Second, LocalAddr: &net.TCPAddr{IP: src}}
	for try := 0; ctx.Err() == nil; try++ {
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			count("dial error")
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		stop := context.AfterFunc(ctx, func() { conn.Close() })
		r, tc, err := startTLS(conn)
		if err != nil {
			count("starttls failed")
			stop()
			conn.Close()
			sleep(ctx, 100*time.Millisecond)
			continue
		}
		for k := 0; ctx.Err() == nil; k++ {
			// Most guesses go to real accounts (a full verification);
			// every fourth to a name that does not exist.
			user := account((i + k) % accounts)
			if k%4 == 3 {
				user = fmt.Sprintf("nobody%d@%s", i, domain)
			}
			attempts.Add(1)
			kind, open := login(tc, r, user, fmt.Sprintf("guess-%d-%d-%d", i, try, k))
			count(kind)
			if !open {
				break
			}
		}
		stop()
		tc.Close()
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// startTLS reads the greeting and upgrades with STARTTLS (RFC 9051 §6.2.1).
func startTLS(conn net.Conn) (*bufio.Reader, *tls.Conn, error) {
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	r := bufio.NewReader(conn)
	if _, err := r.ReadString('\n'); err != nil {
		return nil, nil, err
	}
	if _, err := fmt.Fprintf(conn, "s STARTTLS\r\n"); err != nil {
		return nil, nil, err
	}
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			return nil, nil, err
		}
		if strings.HasPrefix(l, "s ") {
			if !strings.HasPrefix(l, "s OK") {
				return nil, nil, errors.New(strings.TrimSpace(l))
			}
			break
		}
	}
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		return nil, nil, err
	}
	_ = tc.SetDeadline(time.Time{})
	return bufio.NewReader(tc), tc, nil
}

// login sends one LOGIN and classifies the reply; open is false when the
// server closed the connection.
func login(conn net.Conn, r *bufio.Reader, user, pass string) (kind string, open bool) {
	_ = conn.SetDeadline(time.Now().Add(60 * time.Second))
	if _, err := fmt.Fprintf(conn, "a LOGIN %s %s\r\n", user, pass); err != nil {
		return "write error", false
	}
	bye := false
	for {
		l, err := r.ReadString('\n')
		if err != nil {
			if bye {
				return "BYE", false
			}
			return "closed", false
		}
		switch {
		case strings.HasPrefix(l, "* BYE"):
			bye = true
		case strings.HasPrefix(l, "a "):
			f := strings.Fields(l)
			return strings.Join(f[1:min(len(f), 3)], " "), true
		}
	}
}

// validLogin times one real client's connect, STARTTLS and LOGIN from src.
func validLogin(addr string, src net.IP, user string) (time.Duration, error) {
	start := time.Now()
	c, err := imapclient.DialStartTLS(addr, &imapclient.Options{
		TLSConfig: &tls.Config{InsecureSkipVerify: true},
		Dialer:    &net.Dialer{Timeout: 30 * time.Second, LocalAddr: &net.TCPAddr{IP: src}},
	})
	if err != nil {
		return 0, err
	}
	defer c.Close()
	if err := c.Login(user, password).Wait(); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}
