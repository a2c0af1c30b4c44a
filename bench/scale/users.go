// Package scale measures how Surat's costs grow: SMTP ingest rate and the
// nodes' memory and disk with 1k, 10k and 100k users (real `surat serve`
// processes, deliveries spread over every user), and the time a node takes
// to recover from a Raft snapshot of a large store (an in-process cluster
// built through the real cluster and mailbox code, 1,000,000 messages by
// default). bench/cmd/scale is its command; it writes Records that
// bench/cmd/report turns into bench/results/scale.md.
//
// Users are created with an argon2id hash of deliberately cheap parameters
// (m=8 KiB, t=1), made here and imported through the admin API's
// password_hash field (`surat user add --password-hash`): with the default
// parameters (~20 ms of CPU each) creating 100,000 users would take over
// half an hour of CPU. Hashes are verified only at login, which these
// measurements do not do, so the cheaper hash changes nothing measured.
package scale

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surat-mail/surat/bench/imapload"
	"github.com/surat-mail/surat/bench/smtpload"
	"github.com/surat-mail/surat/cluster/faults/proc"
	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/auth"
)

// Record is one measurement, one JSON object a line: Kind "users" or
// "snapshot".
type Record struct {
	Kind    string          `json:"kind"`
	Started time.Time       `json:"started"`
	Load1   float64         `json:"load1"`
	Users   *UsersResult    `json:"users,omitempty"`
	Snap    *SnapshotResult `json:"snapshot,omitempty"`
}

// NodeUsage is one node's memory and disk at a moment.
type NodeUsage struct {
	ID string `json:"id"`
	// RSS is VmRSS; HeapLive the Go heap's live estimate after the last
	// GC (half the heap goal less the stacks, at GOGC=100).
	RSS      int64   `json:"rss"`
	HeapLive float64 `json:"heap_live"`
	// PebbleBytes is the size of the projections store (DATA/state),
	// RaftBytes of the Raft log, stable store and snapshots (DATA/raft).
	PebbleBytes int64 `json:"pebble_bytes"`
	RaftBytes   int64 `json:"raft_bytes"`
}

// UsersResult is one level: a fresh cluster, Users users, then Messages
// deliveries over SMTP, message n to user n mod Users.
type UsersResult struct {
	Users         int              `json:"users"`
	CreateS       float64          `json:"create_s"`
	CreatePerS    float64          `json:"create_per_s"`
	CreateRetries int              `json:"create_retries"`
	AfterUsers    []NodeUsage      `json:"after_users"`
	SMTP          *smtpload.Result `json:"smtp"`
	AfterMail     []NodeUsage      `json:"after_mail"`
}

// UsersConfig is one level's settings.
type UsersConfig struct {
	Bin         string
	Dir         string // the cluster's data go in a fresh directory under it, removed afterwards unless Keep
	Keep        bool
	Users       int
	Messages    int
	Senders     int
	CreateConns int // concurrent user creations, spread over the nodes
	BodySize    int
	Log         func(format string, args ...any)
}

// cheapParams make a valid argon2id hash in microseconds: see the package
// doc for why that is fair here.
var cheapParams = auth.Params{MemoryKiB: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// UserAddress is the i-th user of a level (from 0).
func UserAddress(i int) string { return fmt.Sprintf("s%06d@example.test", i) }

// Users runs one level on a fresh three-node cluster.
func Users(ctx context.Context, cfg UsersConfig) (*UsersResult, error) {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	dir, err := os.MkdirTemp(cfg.Dir, fmt.Sprintf("users-%d-", cfg.Users))
	if err != nil {
		return nil, err
	}
	if !cfg.Keep {
		defer os.RemoveAll(dir)
	}
	c, err := proc.Start(ctx, proc.Options{Bin: cfg.Bin, Dir: dir, LogLevel: "warn"}, 60*time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	res := &UsersResult{Users: cfg.Users}

	t0 := time.Now()
	retries, err := createUsers(ctx, c, cfg.Users, max(cfg.CreateConns, 1))
	if err != nil {
		return nil, fmt.Errorf("create %d users: %w", cfg.Users, err)
	}
	if _, err := proc.Within(ctx, 5*time.Minute, c.WaitConverged); err != nil {
		return nil, err
	}
	res.CreateS = time.Since(t0).Seconds()
	res.CreatePerS = float64(cfg.Users) / res.CreateS
	res.CreateRetries = retries
	logf("%d users created in %.1f s (%.0f/s, %d retries)", cfg.Users, res.CreateS, res.CreatePerS, retries)
	if res.AfterUsers, err = usage(c); err != nil {
		return nil, err
	}

	rcpts := make([]string, cfg.Users)
	for i := range rcpts {
		rcpts[i] = UserAddress(i)
	}
	var addrs []string
	for _, n := range c.Nodes() {
		addrs = append(addrs, n.SMTPAddr())
	}
	res.SMTP, err = smtpload.Run(ctx, smtpload.Config{
		Addrs: addrs, Senders: cfg.Senders, Messages: cfg.Messages, From: "sender@other.test", Recipients: rcpts,
		BodySize: cfg.BodySize, Sources: min(cfg.Senders, 254), Attempts: 10,
	})
	if err != nil {
		return nil, err
	}
	res.SMTP.Label = "surat"
	if _, err := proc.Within(ctx, 5*time.Minute, c.WaitConverged); err != nil {
		return nil, err
	}
	logf("%d messages to %d users: %.0f msgs/s, p50 %.1f ms, p99 %.1f ms, %d errors, %d retries",
		res.SMTP.Accepted, cfg.Users, res.SMTP.AcceptedPerS, res.SMTP.P50Ms, res.SMTP.P99Ms, res.SMTP.Errors, res.SMTP.Retries)
	if res.AfterMail, err = usage(c); err != nil {
		return nil, err
	}
	return res, nil
}

// createUsers adds n users through the admin API of every node in turn
// (followers forward to the leader), conns at a time, retrying temporary
// failures (a 5xx: no leader, no quorum) as an operator's script would.
func createUsers(ctx context.Context, c *proc.Cluster, n, conns int) (int, error) {
	clients := make([]*admin.Client, len(c.Nodes()))
	for i, node := range c.Nodes() {
		cl, err := admin.NewClient(node.HTTPURL(), os.Getenv("SURAT_ADMIN_TOKEN"), 0)
		if err != nil {
			return 0, err
		}
		clients[i] = cl
	}
	add := func(cl *admin.Client, i int, retries *atomic.Int64) error {
		hash, err := auth.HashWith(cheapParams, "pass")
		if err != nil {
			return err
		}
		wait := 100 * time.Millisecond
		for attempt := 1; ; attempt++ {
			err := cl.AddUserWithHash(ctx, UserAddress(i), hash)
			// A retry after an answer that was lost may find the user
			// already made: that is success.
			if err == nil || (attempt > 1 && admin.StatusOf(err) == 409) {
				return nil
			}
			if (admin.StatusOf(err) != 0 && admin.StatusOf(err) < 500) || attempt >= 10 {
				return fmt.Errorf("%s: %w", UserAddress(i), err)
			}
			retries.Add(1)
			select {
			case <-time.After(wait):
			case <-ctx.Done():
				return ctx.Err()
			}
			wait = min(2*wait, 2*time.Second)
		}
	}
	var retries atomic.Int64
	// The first user adds the domain; the rest race for nothing.
	if err := add(clients[0], 0, &retries); err != nil {
		return 0, err
	}
	var (
		next     atomic.Int64
		wg       sync.WaitGroup
		errOnce  sync.Once
		firstErr error
	)
	next.Store(1)
	for k := range conns {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				if err := add(clients[k%len(clients)], i, &retries); err != nil {
					errOnce.Do(func() { firstErr = err })
					next.Store(int64(n))
					return
				}
			}
		})
	}
	wg.Wait()
	return int(retries.Load()), firstErr
}

// usage reads every node's memory and disk.
func usage(c *proc.Cluster) ([]NodeUsage, error) {
	var out []NodeUsage
	for _, n := range c.Nodes() {
		u := NodeUsage{ID: n.ID()}
		var err error
		if u.RSS, err = proc.RSSBytes(n.PID()); err != nil {
			return nil, err
		}
		if m, err := imapload.GoMetrics(n.MetricsURL()); err == nil {
			if goal := m["go_memstats_next_gc_bytes"]; goal > 0 {
				u.HeapLive = (goal - m["go_memstats_stack_inuse_bytes"]) / 2
			}
		}
		if u.PebbleBytes, err = proc.DirBytes(filepath.Join(n.DataDir(), "state")); err != nil {
			return nil, err
		}
		if u.RaftBytes, err = proc.DirBytes(filepath.Join(n.DataDir(), "raft")); err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, nil
}
