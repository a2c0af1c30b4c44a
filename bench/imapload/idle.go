package imapload

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-imap/v2/imapclient"
)

// IdleConfig is one idle-connections run against one server.
type IdleConfig struct {
	Conn  Conn
	Users []string // connection k logs in as Users[k % len]
	N     int      // connections to open
	// Sources spreads the connections over loopback source addresses
	// 127.0.2.1..127.0.2.Sources (a server bounds connections per client
	// IP); 0: the kernel picks.
	Sources     int
	Concurrency int // connections being opened at once
	// Offset numbers the connections from Offset (their user and source
	// address follow the number), for a set opened after another.
	Offset int
}

// IdleSet is a set of open idle connections.
type IdleSet struct {
	mu      sync.Mutex
	clients []*imapclient.Client
	idles   []*imapclient.IdleCommand
}

// OpenIdle opens cfg.N connections, each logged in, INBOX selected and in
// IDLE. It returns what it opened and the first error (it keeps going
// after failures, so the set may hold fewer than N).
func OpenIdle(ctx context.Context, cfg IdleConfig) (*IdleSet, int, error) {
	set := &IdleSet{}
	var (
		next     atomic.Int64
		failed   atomic.Int64
		errOnce  sync.Once
		firstErr error
		wg       sync.WaitGroup
	)
	for range max(cfg.Concurrency, 1) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				k := int(next.Add(1) - 1)
				if k >= cfg.N {
					return
				}
				k += cfg.Offset
				c := cfg.Conn
				if cfg.Sources > 0 {
					c.LocalAddr = fmt.Sprintf("127.0.2.%d", 1+k%cfg.Sources)
				}
				cl, idle, err := openOneIdle(c, cfg.Users[k%len(cfg.Users)])
				if err != nil {
					failed.Add(1)
					errOnce.Do(func() { firstErr = fmt.Errorf("connection %d: %w", k, err) })
					continue
				}
				set.mu.Lock()
				set.clients = append(set.clients, cl)
				set.idles = append(set.idles, idle)
				set.mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return set, int(failed.Load()), firstErr
}

func openOneIdle(c Conn, user string) (*imapclient.Client, *imapclient.IdleCommand, error) {
	cl, err := c.Dial(user)
	if err != nil {
		return nil, nil, err
	}
	if _, err := cl.Select("INBOX", nil).Wait(); err != nil {
		cl.Close()
		return nil, nil, fmt.Errorf("SELECT: %w", err)
	}
	idle, err := cl.Idle()
	if err != nil {
		cl.Close()
		return nil, nil, fmt.Errorf("IDLE: %w", err)
	}
	return cl, idle, nil
}

// Len is the number of open connections.
func (s *IdleSet) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Alive counts the connections the server has not closed.
func (s *IdleSet) Alive() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, c := range s.clients {
		if !closed(c) {
			n++
		}
	}
	return n
}

// Close drops every connection (no DONE, no LOGOUT: the server sees the
// connections close, as when clients go away).
func (s *IdleSet) Close() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.clients {
		c.Close()
	}
	s.clients, s.idles = nil, nil
}

// RSSBytes is the resident set size of process pid (VmRSS in
// /proc/PID/status).
func RSSBytes(pid int) (int64, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) >= 1 {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS for %d", pid)
}

// GoMetrics reads Go runtime gauges from a Prometheus /metrics URL (the
// default Go collector's names); a missing one is absent from the map.
func GoMetrics(url string) (map[string]float64, error) {
	want := map[string]bool{
		"go_memstats_heap_inuse_bytes": true, "go_memstats_heap_alloc_bytes": true,
		"go_memstats_stack_inuse_bytes": true, "go_memstats_sys_bytes": true, "go_goroutines": true,
		"go_memstats_next_gc_bytes": true,
		"process_open_fds":          true,
	}
	cl := &http.Client{Timeout: 5 * time.Second}
	resp, err := cl.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		name, val, ok := strings.Cut(line, " ")
		if !ok || !want[name] {
			continue
		}
		if v, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
			out[name] = v
		}
	}
	return out, sc.Err()
}
