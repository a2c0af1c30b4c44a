//go:build linux

package mailbox

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// lockedBuffer collects the store's logs from Pebble's goroutines too.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestApplyOnFullDisk fills a real tmpfs under a store. Pebble cannot go
// on after its WAL write fails (it panics with the I/O error and keeps
// its commit lock), so Apply must stop the node with an error that says
// "disk full" (ENOSPC in its chain, for the cluster to exit cleanly) and
// a log line saying what to do. A restart on the same files, once there
// is room, replays from the applied marker to exactly the state of a
// store that never ran out of space.
func TestApplyOnFullDisk(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	small := filepath.Join(t.TempDir(), "small")
	if err := os.Mkdir(small, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", small, "tmpfs", 0, "size=64m"); err != nil {
		t.Skipf("cannot mount a tmpfs: %v", err)
	}
	// Detached: the failed Pebble instance keeps its files open and can
	// never be closed.
	t.Cleanup(func() { _ = syscall.Unmount(small, syscall.MNT_DETACH) })

	// 400 deliveries of 200 KiB of random bytes: 80 MiB, more than the
	// tmpfs holds.
	props := [][]byte{encode(t, domainAdded("example.test"), userCreated("alice@example.test", 1))}
	for i := range 400 {
		body := make([]byte, 200<<10)
		if _, err := io.ReadFull(rand.Reader, body); err != nil {
			t.Fatal(err)
		}
		sum := sha256.Sum256(body)
		evs := []*evlog.Event{}
		for _, c := range evlog.Chunks(body) {
			evs = append(evs, blobStored(c))
		}
		evs = append(evs, ev(&evlog.Delivered{Blob: sum[:], Size: uint64(len(body)), InternalDateUnix: int64(i),
			Recipients: []*evlog.Recipient{{Address: "alice@example.test"}}}))
		props = append(props, encode(t, evs...))
	}

	logs := &lockedBuffer{}
	full, err := Open(filepath.Join(small, "state"), Options{Logger: slog.New(slog.NewTextHandler(logs, nil)), CacheSize: 8 << 20})
	if err != nil {
		t.Fatal(err)
	}
	var (
		failedAt uint64
		crash    any
	)
	for i, p := range props {
		func() {
			defer func() { crash = recover() }()
			full.Apply(uint64(i+1), [][]byte{p})
		}()
		if crash != nil {
			failedAt = uint64(i + 1)
			break
		}
	}
	if failedAt == 0 {
		t.Fatal("80 MiB went into a 64 MiB tmpfs without an error")
	}
	perr, ok := crash.(error)
	if !ok || !errors.Is(perr, syscall.ENOSPC) {
		t.Fatalf("Apply of entry %d panicked with %T %v, want an error wrapping ENOSPC", failedAt, crash, crash)
	}
	if !strings.Contains(logs.String(), "disk full") {
		t.Fatalf("no log line says the disk is full:\n%s", logs.String())
	}
	t.Logf("entry %d: %v", failedAt, perr)

	// The failed process's files, as a restart finds them once space is
	// freed (here: copied to a roomy disk).
	restarted := filepath.Join(t.TempDir(), "state")
	if err := copyTree(filepath.Join(small, "state"), restarted); err != nil {
		t.Fatal(err)
	}
	s := openStore(t, restarted)
	defer s.Close()
	marker := s.AppliedIndex()
	if marker >= failedAt {
		t.Fatalf("applied marker %d after a failure at %d", marker, failedAt)
	}
	for i := marker; i < uint64(len(props)); i++ {
		s.Apply(i+1, [][]byte{props[i]})
	}

	ref := openStore(t, t.TempDir())
	defer ref.Close()
	for i, p := range props {
		ref.Apply(uint64(i+1), [][]byte{p})
	}
	gotIdx, got, err := s.Digest()
	if err != nil {
		t.Fatal(err)
	}
	wantIdx, want, err := ref.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if gotIdx != wantIdx || got != want {
		t.Fatalf("after replaying from %d: index %d digest %x; a store that never filled: %d %x", marker, gotIdx, got, wantIdx, want)
	}
	t.Logf("failed at entry %d, restart found the marker at %d and replayed %d entries", failedAt, marker, uint64(len(props))-marker)
}

// copyTree copies the regular files of dir (one level, as Pebble keeps
// them) to a new directory dst.
func copyTree(dir, dst string) error {
	if err := os.MkdirAll(dst, 0o750); err != nil {
		return err
	}
	return filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o750)
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("unexpected file %s", path)
		}
		src, err := os.Open(path)
		if err != nil {
			return err
		}
		defer src.Close()
		out, err := os.Create(target)
		if err != nil {
			return err
		}
		if _, err := io.Copy(out, src); err != nil {
			out.Close()
			return err
		}
		return out.Close()
	})
}
