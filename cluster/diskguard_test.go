package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/surat-mail/surat/log/logtest"
)

const mib = 1 << 20

func TestNextLevel(t *testing.T) {
	const minFree = 80 * mib // reserve 40 MiB, margin 10 MiB
	tests := []struct {
		name string
		prev storageLevel
		free uint64
		want storageLevel
	}{
		{"plenty", storageOK, 1 << 40, storageOK},
		{"at the threshold", storageOK, minFree, storageOK},
		{"just below the threshold", storageOK, minFree - 1, storageLow},
		{"at the reserve", storageOK, 40 * mib, storageLow},
		{"just below the reserve", storageOK, 40*mib - 1, storageCritical},
		{"empty", storageOK, 0, storageCritical},
		{"low stays low within the margin", storageLow, minFree + 5*mib, storageLow},
		{"low leaves past the margin", storageLow, minFree + 10*mib, storageOK},
		{"critical stays critical within the margin", storageCritical, 45 * mib, storageCritical},
		{"critical becomes low past the margin", storageCritical, 50 * mib, storageLow},
		{"critical straight to low within the upper margin", storageCritical, minFree + 1, storageLow},
		{"critical straight to ok", storageCritical, 1 << 40, storageOK},
		{"low falls to critical", storageLow, 10 * mib, storageCritical},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nextLevel(tc.prev, tc.free, minFree); got != tc.want {
				t.Fatalf("nextLevel(%v, %d, %d) = %v, want %v", tc.prev, tc.free, minFree, got, tc.want)
			}
		})
	}
	t.Run("off", func(t *testing.T) {
		if got := nextLevel(storageCritical, 0, 0); got != storageOK {
			t.Fatalf("with the guard off: %v", got)
		}
	})
}

// fakeDisk is the guard's boundary with the operating system: a free byte
// count (or an error) that a test moves, and how often it was asked.
type fakeDisk struct {
	free  atomic.Uint64
	err   atomic.Pointer[error]
	calls atomic.Int64
}

func (d *fakeDisk) statfs(string) (uint64, error) {
	d.calls.Add(1)
	if e := d.err.Load(); e != nil {
		return 0, *e
	}
	return d.free.Load(), nil
}

func newTestGuard(t *testing.T, minFree uint64, disk *fakeDisk) (*diskGuard, *logtest.Sink, *prometheus.Registry) {
	t.Helper()
	logs := &logtest.Sink{}
	reg := prometheus.NewRegistry()
	cfg := Config{DataDir: "/data/raft", StoragePaths: []string{"/data/state"}, MinFreeBytes: minFree,
		StorageCheckInterval: 10 * time.Millisecond, Registerer: reg, freeSpace: disk.statfs}
	return newDiskGuard(&cfg, slog.New(slog.NewTextHandler(logs, nil))), logs, reg
}

func TestDiskGuardTransitions(t *testing.T) {
	disk := &fakeDisk{}
	g, logs, _ := newTestGuard(t, 80*mib, disk)
	steps := []struct {
		free        uint64
		level       storageLevel
		newLogLines int // one per transition, none while the level holds
	}{
		{1 << 30, storageOK, 0},
		{70 * mib, storageLow, 1},
		{75 * mib, storageLow, 0},
		{30 * mib, storageCritical, 1},
		{20 * mib, storageCritical, 0},
		{60 * mib, storageLow, 1},
		{1 << 30, storageOK, 1},
		{1 << 30, storageOK, 0},
	}
	lines := 0
	for i, s := range steps {
		disk.free.Store(s.free)
		for range 3 { // repeated checks log nothing new
			if got := g.check(); got != s.level {
				t.Fatalf("step %d (%d free): level %v, want %v", i, s.free, got, s.level)
			}
		}
		if got := g.refusing(); got != (s.level >= storageLow) {
			t.Fatalf("step %d: refusing %v at level %v", i, got, s.level)
		}
		if got := testutil.ToFloat64(g.levelGauge); got != float64(s.level) {
			t.Fatalf("step %d: level gauge %v, want %d", i, got, s.level)
		}
		if got := testutil.ToFloat64(g.freeGauge); got != float64(s.free) {
			t.Fatalf("step %d: free gauge %v, want %d", i, got, s.free)
		}
		lines += s.newLogLines
		if got := strings.Count(logs.String(), "\n"); got != lines {
			t.Fatalf("step %d: %d log lines, want %d:\n%s", i, got, lines, logs.String())
		}
	}
	// Both watched paths are asked each time.
	if got, want := disk.calls.Load(), int64(2*3*len(steps)); got != want {
		t.Fatalf("statfs called %d times, want %d", got, want)
	}
}

func TestDiskGuardStatfsFailureKeepsLevel(t *testing.T) {
	disk := &fakeDisk{}
	g, logs, _ := newTestGuard(t, 80*mib, disk)
	disk.free.Store(70 * mib)
	if g.check() != storageLow {
		t.Fatal("not low at 70 MiB")
	}
	fail := fmt.Errorf("statfs /data/raft: %w", syscall.EIO)
	disk.err.Store(&fail)
	disk.free.Store(1 << 30) // not seen while statfs fails
	for range 3 {
		if got := g.check(); got != storageLow {
			t.Fatalf("level %v while statfs fails, want the last one (low)", got)
		}
	}
	if got := strings.Count(logs.String(), "check failed"); got != 1 {
		t.Fatalf("failure logged %d times, want once:\n%s", got, logs.String())
	}
	disk.err.Store(nil)
	if got := g.check(); got != storageOK {
		t.Fatalf("level %v once statfs works again with 1 GiB free", got)
	}
}

func TestDiskGuardOff(t *testing.T) {
	disk := &fakeDisk{}
	g, _, reg := newTestGuard(t, 0, disk)
	for range 3 {
		if g.check() != storageOK || g.refusing() || g.critical() {
			t.Fatal("a guard that is off refuses")
		}
	}
	if disk.calls.Load() != 0 {
		t.Fatalf("a guard that is off called statfs %d times", disk.calls.Load())
	}
	if n, err := testutil.GatherAndCount(reg, "surat_storage_level"); err != nil || n != 1 {
		t.Fatalf("gauge registered %d times: %v", n, err)
	}
}

func TestFreeSpaceOfRealDirectory(t *testing.T) {
	free, err := freeSpace(t.TempDir())
	if err != nil {
		t.Skipf("statfs not available here: %v", err)
	}
	if free == 0 {
		t.Fatal("0 bytes free on the test's temporary directory")
	}
	if _, err := freeSpace("/does/not/exist"); err == nil {
		t.Fatal("statfs of a missing path succeeded")
	}
}

func TestGuardedLogStore(t *testing.T) {
	disk := &fakeDisk{}
	g, _, _ := newTestGuard(t, 80*mib, disk)
	store := guardedLogStore{LogStore: raft.NewInmemStore(), guard: g}
	tests := []struct {
		name  string
		free  uint64
		index uint64
		ok    bool
	}{
		{"plenty of space", 1 << 30, 1, true},
		{"low: still appends what others commit", 70 * mib, 2, true},
		{"below the reserve: refused", 30 * mib, 3, false},
		{"space back", 1 << 30, 3, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			disk.free.Store(tc.free)
			err := store.StoreLog(&raft.Log{Index: tc.index, Term: 1, Data: []byte("x")})
			if tc.ok != (err == nil) {
				t.Fatalf("StoreLog: %v", err)
			}
			if !tc.ok && !errors.Is(err, ErrInsufficientStorage) {
				t.Fatalf("refusal %v is not ErrInsufficientStorage", err)
			}
			last, _ := store.LastIndex()
			if want := tc.index - map[bool]uint64{true: 0, false: 1}[tc.ok]; last != want {
				t.Fatalf("last index %d, want %d", last, want)
			}
		})
	}
}

func TestSpaceCheckedWriter(t *testing.T) {
	disk := &fakeDisk{}
	g, _, _ := newTestGuard(t, 80*mib, disk)
	disk.free.Store(1 << 30)
	var out bytes.Buffer
	w := &spaceCheckedWriter{w: &out, guard: g, written: snapshotCheckEvery}
	chunk := make([]byte, 1<<20)
	for range 6 {
		if _, err := w.Write(chunk); err != nil {
			t.Fatalf("write with space: %v", err)
		}
	}
	disk.free.Store(30 * mib)
	var err error
	for i := 0; i < 8 && err == nil; i++ {
		_, err = w.Write(chunk)
	}
	if !errors.Is(err, ErrInsufficientStorage) {
		t.Fatalf("snapshot went on below the reserve: %v", err)
	}
	if out.Len() > 6<<20+snapshotCheckEvery {
		t.Fatalf("%d bytes written; the check comes every %d", out.Len(), snapshotCheckEvery)
	}
}

// newGuardedFSM is an FSM over memSM gated by a guard on disk.
func newGuardedFSM(t *testing.T, disk *fakeDisk) (*fsm, *memSM, chan struct{}) {
	t.Helper()
	g, _, _ := newTestGuard(t, 80*mib, disk)
	sm := &memSM{}
	f := newFSM(sm, slog.New(slog.DiscardHandler), newMetrics(nil))
	stop := make(chan struct{})
	f.guard, f.stop = g, stop
	return f, sm, stop
}

func commandLogs(from uint64, n int) []*raft.Log {
	var logs []*raft.Log
	for i := range n {
		idx := from + uint64(i)
		logs = append(logs, &raft.Log{Index: idx, Term: 1, Type: raft.LogCommand,
			Data: encodeItems([][]byte{fmt.Appendf(nil, "p%d", idx)})})
	}
	return logs
}

// waitCalls waits until statfs has been asked more than n times: the gate
// is polling.
func waitCalls(t *testing.T, disk *fakeDisk, n int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for disk.calls.Load() <= n {
		if time.Now().After(deadline) {
			t.Fatalf("statfs asked %d times, waited for more than %d", disk.calls.Load(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestFSMWaitsForSpace(t *testing.T) {
	disk := &fakeDisk{}
	disk.free.Store(30 * mib) // below the 40 MiB reserve
	f, sm, _ := newGuardedFSM(t, disk)
	done := make(chan []interface{}, 1)
	go func() { done <- f.ApplyBatch(commandLogs(1, 3)) }()

	// Several polls while below the reserve, and nothing applied.
	waitCalls(t, disk, 10)
	select {
	case <-done:
		t.Fatal("ApplyBatch returned while the disk is below the reserve")
	default:
	}
	if got := sm.AppliedIndex(); got != 0 {
		t.Fatalf("applied %d entries below the reserve", got)
	}
	// Reads are not blocked meanwhile: the gate holds no state machine lock.
	if _, err := sm.Checkpoint(); err != nil {
		t.Fatal(err)
	}

	disk.free.Store(1 << 30)
	var out []interface{}
	select {
	case out = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("apply did not resume once space returned")
	}
	for i, r := range out {
		if _, ok := r.(*applyResult); !ok {
			t.Fatalf("entry %d: %v", i+1, r)
		}
	}
	if got := sm.snapshot(); strings.Join(got, ",") != "p1,p2,p3" {
		t.Fatalf("applied %v, want p1,p2,p3 in order", got)
	}
}

func TestFSMStopWhileWaitingForSpace(t *testing.T) {
	disk := &fakeDisk{}
	disk.free.Store(30 * mib)
	f, sm, stop := newGuardedFSM(t, disk)
	done := make(chan []interface{}, 1)
	go func() { done <- f.ApplyBatch(commandLogs(1, 2)) }()
	waitCalls(t, disk, 4)
	close(stop)
	var out []interface{}
	select {
	case out = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("a node stopping did not end the wait: shutdown would hang")
	}
	for i, r := range out {
		if err, ok := r.(error); !ok || !errors.Is(err, ErrShutdown) {
			t.Fatalf("entry %d: %v, want ErrShutdown", i+1, r)
		}
	}
	// Once an entry was left out, nothing later may be applied or
	// snapshotted, even with space back: it would skip that entry.
	disk.free.Store(1 << 30)
	for i, r := range f.ApplyBatch(commandLogs(3, 1)) {
		if err, ok := r.(error); !ok || !errors.Is(err, ErrShutdown) {
			t.Fatalf("entry after the halt %d: %v", i+3, r)
		}
	}
	if sm.AppliedIndex() != 0 {
		t.Fatalf("applied %d after halting", sm.AppliedIndex())
	}
	if _, err := f.Snapshot(); !errors.Is(err, ErrShutdown) {
		t.Fatalf("snapshot after halting: %v", err)
	}
}

// panicSM fails Apply as a store does on a storage error.
type panicSM struct {
	memSM
	err error
}

func (p *panicSM) ApplyEntry(uint64, []Proposal) [][]byte { panic(p.err) }

func TestExitOnStorageFailure(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantHook bool // OnStorageFull, not OnStorageFailure
	}{
		{"disk full", fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "000008.log", Err: syscall.ENOSPC}), true},
		{"quota", fmt.Errorf("commit: %w", syscall.EDQUOT), true},
		{"corruption", errors.New("pebble: corrupt block"), false},
		{"I/O error", fmt.Errorf("commit: %w", &os.PathError{Op: "write", Path: "000008.log", Err: syscall.EIO}), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hooked, failed error
			f := newFSM(&panicSM{err: tc.err}, slog.New(slog.DiscardHandler), newMetrics(nil))
			f.onStorageFull = func(err error) { hooked = err }
			f.onFailure = func(err error) { failed = err }
			var recovered any
			func() {
				defer func() { recovered = recover() }()
				f.ApplyBatch(commandLogs(1, 1))
			}()
			if recovered == nil {
				t.Fatal("the state machine's panic was swallowed")
			}
			if tc.wantHook != (hooked != nil) {
				t.Fatalf("OnStorageFull called with %v; want a call: %v", hooked, tc.wantHook)
			}
			if hooked != nil && !errors.Is(hooked, tc.err) {
				t.Fatalf("OnStorageFull got %v, want it to wrap %v", hooked, tc.err)
			}
			// Every other storage failure goes to OnStorageFailure (exit 74).
			if tc.wantHook == (failed != nil) || (failed != nil && !errors.Is(failed, tc.err)) {
				t.Fatalf("OnStorageFailure called with %v; want a call wrapping %v: %v", failed, tc.err, !tc.wantHook)
			}
		})
	}
}

// TestLowLeader: a leader low on disk space refuses entries forwarded to
// it, without appending them, and the follower reports
// ErrInsufficientStorage once its short retry window has passed; handed
// over, leadership goes to a voter with space, which takes the same
// follower's proposals, while the low node still refuses its own.
func TestLowLeader(t *testing.T) {
	disks := map[string]*fakeDisk{}
	c := newTestCluster(t, 3, nil, func(cfg *Config) {
		d := &fakeDisk{}
		d.free.Store(1 << 30)
		disks[cfg.NodeID] = d
		cfg.freeSpace = d.statfs
		cfg.MinFreeBytes = 80 * mib
		// The test checks and hands over itself: no timer in the way.
		cfg.StorageCheckInterval = time.Hour
	})
	leader := c.waitLeader(20 * time.Second)
	follower := (leader + 1) % 3
	propose(t, c.nodes[follower], "before")
	c.waitConverged(10 * time.Second)

	low := c.nodes[leader]
	disks[low.ID()].free.Store(70 * mib) // low, above the 40 MiB reserve
	if got := low.guard.check(); got != storageLow {
		t.Fatalf("leader's storage level %v, want low", got)
	}
	lastIndex := low.localStats().LastIndex
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if _, err := c.nodes[follower].Propose(ctx, []byte("refused")); !errors.Is(err, ErrInsufficientStorage) || !IsTemporary(err) {
		t.Fatalf("forwarded to a low leader: %v, want the temporary ErrInsufficientStorage", err)
	}
	if got := low.localStats().LastIndex; got != lastIndex {
		t.Fatalf("the low leader appended the refused entry: last index %d, was %d", got, lastIndex)
	}
	if st := low.localStats(); !st.StorageLow {
		t.Fatal("the low leader does not report storage_low in its stats")
	}

	low.handOverForStorage()
	waitUntil(t, 20*time.Second, "leadership moves off the low node", func() bool {
		id := c.nodes[follower].Leader()
		return id != "" && id != low.ID() && low.Leader() == id
	})
	if got := propose(t, c.nodes[follower], "after"); !strings.HasSuffix(got, ":after") {
		t.Fatalf("result %q", got)
	}
	if _, err := low.Propose(ctx, []byte("own")); !errors.Is(err, ErrInsufficientStorage) {
		t.Fatalf("the low node's own proposal: %v", err)
	}
	c.waitConverged(10 * time.Second)
	for i := range c.nodes {
		if got := strings.Join(c.mem(i).snapshot(), ","); got != "before,after" {
			t.Fatalf("node %d applied %s, want before,after", i+1, got)
		}
	}
}

// waitUntil polls cond until it holds or timeout passes.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", timeout, what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
