package imapload

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// MixedConfig is the mixed workload: Clients persistent sessions, client k
// on Conns[k % len(Conns)] as a user drawn (seeded, so the same for every
// server) from Users; users may be shared by two clients, as imaptest's
// random choice does.
type MixedConfig struct {
	Conns    []Conn
	Users    []string
	Clients  int
	Duration time.Duration
	Seed     uint64
}

// Commands of one iteration of the mixed loop, in order.
var MixedCommands = []string{"SELECT", "FETCH", "STORE", "EXPUNGE", "APPEND"}

// CommandStats is what one command type measured over a mixed run.
type CommandStats struct {
	Ops    int     `json:"ops"`
	Errors int     `json:"errors"`
	PerS   float64 `json:"per_s"`
	P50Ms  float64 `json:"p50_ms"`
	P99Ms  float64 `json:"p99_ms"`
	MeanMs float64 `json:"mean_ms"`
	// Share is the fraction of the clients' time spent in this command.
	Share float64 `json:"share"`
}

// MixedResult is one mixed run.
type MixedResult struct {
	Clients    int                      `json:"clients"`
	Users      int                      `json:"distinct_users"`
	WallS      float64                  `json:"wall_s"`
	Iterations int                      `json:"iterations"`
	Commands   map[string]*CommandStats `json:"commands"`
	FirstError string                   `json:"first_error,omitempty"`
}

// Mixed runs the mixed workload. Each client logs in once, then loops
// until the duration is up:
//
//	SELECT INBOX
//	FETCH n (FLAGS BODY.PEEK[])            3 consecutive messages at random
//	STORE n +FLAGS (\Flagged)              one message at random
//	STORE n +FLAGS (\Deleted)              another
//	EXPUNGE
//	APPEND INBOX                           a 4 KiB message (the mailbox keeps its size)
//
// Every command is timed from sending to its tagged response; a command
// that fails is counted as an error (the first error's text is kept) and
// the client goes on, reconnecting if the connection is gone.
func Mixed(ctx context.Context, cfg MixedConfig) (*MixedResult, error) {
	if len(cfg.Conns) == 0 || len(cfg.Users) == 0 || cfg.Clients < 1 || cfg.Duration <= 0 {
		return nil, fmt.Errorf("imapload: mixed needs servers, users, clients and a duration")
	}
	r := rand.New(rand.NewPCG(cfg.Seed, 1))
	users := make([]string, cfg.Clients)
	distinct := map[string]bool{}
	for k := range users {
		users[k] = cfg.Users[r.IntN(len(cfg.Users))]
		distinct[users[k]] = true
	}
	// Log everyone in first, so that logins (argon2id on Surat, a login
	// process on Dovecot) are not in the measured time.
	clients := make([]*imapclient.Client, cfg.Clients)
	var wg sync.WaitGroup
	errs := make([]error, cfg.Clients)
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			clients[k], errs[k] = cfg.Conns[k%len(cfg.Conns)].Dial(users[k])
		}()
	}
	wg.Wait()
	defer func() {
		for _, c := range clients {
			if c != nil {
				c.Close()
			}
		}
	}()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}

	type lat struct {
		cmd string
		d   time.Duration
		err error
	}
	results := make([][]lat, cfg.Clients)
	iterations := make([]int, cfg.Clients)
	ctx, cancel := context.WithTimeout(ctx, cfg.Duration)
	defer cancel()
	start := time.Now()
	for k := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rk := rand.New(rand.NewPCG(cfg.Seed, uint64(k)+2))
			cl := clients[k]
			msgN := 1_000_000 + k*100_000 // message numbers for APPEND, distinct per client
			run := func(cmd string, fn func() error) bool {
				if ctx.Err() != nil {
					return false
				}
				t := time.Now()
				err := fn()
				results[k] = append(results[k], lat{cmd, time.Since(t), err})
				return true
			}
			for ctx.Err() == nil {
				var n uint32
				if !run("SELECT", func() error {
					d, err := cl.Select("INBOX", nil).Wait()
					if err == nil {
						n = d.NumMessages
					}
					return err
				}) {
					break
				}
				if closed(cl) {
					// The server closed the connection: reconnect (not timed).
					c, err := cfg.Conns[k%len(cfg.Conns)].Dial(users[k])
					if err != nil {
						results[k] = append(results[k], lat{"SELECT", 0, err})
						time.Sleep(100 * time.Millisecond)
						continue
					}
					cl.Close()
					cl, clients[k] = c, c
					continue
				}
				if n >= 3 {
					first := uint32(1 + rk.IntN(int(n-2)))
					run("FETCH", func() error {
						return cl.Fetch(seqRange(first, first+2), &imap.FetchOptions{
							Flags: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}},
						}).Close()
					})
					a := uint32(1 + rk.IntN(int(n)))
					run("STORE", func() error {
						return cl.Store(imap.SeqSetNum(a), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagFlagged}}, nil).Close()
					})
					b := uint32(1 + rk.IntN(int(n)))
					run("STORE", func() error {
						return cl.Store(imap.SeqSetNum(b), &imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}, nil).Close()
					})
					run("EXPUNGE", func() error { return cl.Expunge().Close() })
				}
				msg := Message(users[k], msgN)
				msgN++
				if !run("APPEND", func() error { return appendMessage(cl, msg) }) {
					break
				}
				iterations[k]++
			}
		}()
	}
	wg.Wait()
	wall := time.Since(start).Seconds()

	res := &MixedResult{Clients: cfg.Clients, Users: len(distinct), WallS: wall, Commands: map[string]*CommandStats{}}
	durs := map[string][]float64{}
	var total float64
	for k := range results {
		res.Iterations += iterations[k]
		for _, l := range results[k] {
			st := res.Commands[l.cmd]
			if st == nil {
				st = &CommandStats{}
				res.Commands[l.cmd] = st
			}
			ms := float64(l.d) / float64(time.Millisecond)
			total += ms
			if l.err != nil {
				st.Errors++
				if res.FirstError == "" {
					res.FirstError = l.cmd + ": " + l.err.Error()
				}
				continue
			}
			st.Ops++
			durs[l.cmd] = append(durs[l.cmd], ms)
		}
	}
	for cmd, st := range res.Commands {
		d := durs[cmd]
		slices.Sort(d)
		st.PerS = float64(st.Ops) / wall
		st.P50Ms = Percentile(d, 50)
		st.P99Ms = Percentile(d, 99)
		var sum float64
		for _, v := range d {
			sum += v
		}
		if len(d) > 0 {
			st.MeanMs = sum / float64(len(d))
		}
		if total > 0 {
			st.Share = sum / total
		}
	}
	return res, nil
}

func closed(cl *imapclient.Client) bool {
	select {
	case <-cl.Closed():
		return true
	default:
		return false
	}
}

// Percentile of sorted values (nearest rank); 0 for none.
func Percentile(sorted []float64, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*p/100+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func seqRange(start, stop uint32) imap.SeqSet {
	var s imap.SeqSet
	s.AddRange(start, stop)
	return s
}
