//go:build linux

package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

// mountTmpfs mounts a tmpfs of size bytes at a new directory, or skips the
// test when that is not possible (not root, no mount namespace rights).
// It is unmounted when the test ends, after the nodes on it stopped.
func mountTmpfs(t *testing.T, size int64) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d", size)); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil {
			t.Errorf("unmount %s: %v", dir, err)
		}
	})
	return dir
}

// fillTo makes the filesystem at dir have about free bytes left, with one
// filler file (replacing an earlier one), and returns the filler's path.
func fillTo(t *testing.T, dir string, free uint64) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	now, err := freeSpace(dir)
	if err != nil {
		t.Fatal(err)
	}
	if now <= free {
		t.Fatalf("only %d bytes free on %s, cannot fill to %d", now, dir, free)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := syscall.Fallocate(int(f.Fd()), 0, 0, int64(now-free)); err != nil {
		t.Fatalf("fallocate filler: %v", err)
	}
	return path
}

// TestDiskFullNode runs a three-node cluster on the real mail store where
// n3 keeps its Raft log and its store on a small tmpfs, and fills that
// tmpfs: writes through n3 are refused with the temporary storage error,
// writes through the others go on, n3 hands leadership over, keeps
// applying while merely low and falls behind below the reserve; once the
// filler is deleted it catches up to the same digest and takes writes
// again. Nothing acknowledged is lost and no node crashes.
func TestDiskFullNode(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster on a tmpfs")
	}
	// Pebble preallocates each new WAL at 110% of its 32 MiB memtable,
	// so free space drops in 35 MiB steps: thresholds well above that.
	const (
		minFree  = 160 << 20 // reserve 80 MiB, margins 20 MiB
		lowFree  = 140 << 20 // low, and still above the reserve after one more WAL
		critFree = 40 << 20  // below the reserve
	)
	small := mountTmpfs(t, 512<<20)
	n3Dir := filepath.Join(small, "n3")
	c := newTestClusterWith(t, 3, nil, func(cfg *Config) {
		if cfg.NodeID != "n3" {
			return
		}
		// storeFactory keeps the store next to DataDir: both on the tmpfs.
		cfg.DataDir = filepath.Join(n3Dir, "raft")
		cfg.StoragePaths = []string{filepath.Join(n3Dir, "n3-state")}
		cfg.MinFreeBytes = minFree
		cfg.StorageCheckInterval = 50 * time.Millisecond
	}, storeFactory)
	leader := c.waitLeader(20 * time.Second)
	createUser(t, c.nodes[leader])
	const n3 = 2
	msg, acked := 0, 0
	deliver := func(i int) error {
		msg++
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		_, err := submit(ctx, c.nodes[i], delivery(fmt.Appendf(nil, "Subject: %d\r\n\r\nmessage %d via n%d\r\n", msg, msg, i+1))...)
		return err
	}
	mustDeliver := func(i int) {
		t.Helper()
		if err := deliver(i); err != nil {
			t.Fatalf("delivery via n%d: %v", i+1, err)
		}
		acked++
	}
	mustRefuse := func(i int) {
		t.Helper()
		err := deliver(i)
		if !errors.Is(err, ErrInsufficientStorage) || !IsTemporary(err) {
			t.Fatalf("delivery via n%d with its disk low: %v, want the temporary ErrInsufficientStorage", i+1, err)
		}
	}
	mustDeliver(n3)
	c.waitConverged(20 * time.Second)

	// n3 leads when its disk runs low: it hands leadership over.
	if err := c.nodes[leader].raft.LeadershipTransferToServer(raft.ServerID("n3"), raft.ServerAddress(c.cfgs[n3].RaftAddr)).Error(); err != nil && leader != n3 {
		t.Fatalf("make n3 the leader: %v", err)
	}
	waitUntil(t, 20*time.Second, "n3 leads", func() bool { return c.nodes[n3].IsLeader() })
	filler := fillTo(t, small, lowFree)
	waitUntil(t, 20*time.Second, "n3 hands leadership over", func() bool {
		l := c.nodes[0].Leader()
		return l != "" && l != "n3" && c.nodes[n3].Leader() == l
	})
	if reason := c.nodes[n3].NotReadyReason(); !strings.Contains(reason, "low disk space") {
		t.Fatalf("n3 not ready because %q, want low disk space", reason)
	}

	// Low: refused through n3, accepted through the others, and n3 still
	// applies what they commit.
	mustRefuse(n3)
	mustDeliver(0)
	mustDeliver(1)
	c.waitConverged(20 * time.Second)
	if got := testutil.ToFloat64(c.nodes[n3].guard.levelGauge); got != float64(storageLow) {
		t.Fatalf("n3's storage level gauge %v, want %d (low)", got, storageLow)
	}

	// Below the reserve: still refused, the others go on, n3 falls behind.
	filler = fillTo(t, small, critFree)
	waitUntil(t, 10*time.Second, "n3 below the reserve", func() bool { return c.nodes[n3].guard.critical() })
	mustRefuse(n3)
	for range 5 {
		mustDeliver(0)
		mustDeliver(1)
	}
	leaderNow := c.index(c.nodes[0].Leader())
	if behind, ahead := c.sms[n3].AppliedIndex(), c.sms[leaderNow].AppliedIndex(); behind >= ahead {
		t.Fatalf("n3 applied %d, the leader %d: n3 did not stop below the reserve", behind, ahead)
	}
	if free, err := freeSpace(small); err != nil || free == 0 {
		t.Fatalf("the tmpfs filled up completely (%d free, %v): the reserve was not kept", free, err)
	}

	// Space returns: n3 catches up and takes writes again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	// Raft retries a follower whose appends failed with a backoff of up
	// to ~10 s.
	c.waitConverged(60 * time.Second)
	waitUntil(t, 10*time.Second, "n3 accepts writes again", func() bool { return !c.nodes[n3].guard.refusing() })
	mustDeliver(n3)
	c.waitConverged(20 * time.Second)
	for i := range c.nodes {
		if got := len(inboxBlobs(t, c, i)); got != acked {
			t.Fatalf("n%d holds %d messages, want the %d acknowledged", i+1, got, acked)
		}
	}
}
