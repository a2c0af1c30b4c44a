package mailbox

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func checkpointBytes(t *testing.T, s *Store) []byte {
	t.Helper()
	cp, err := s.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Release()
	var buf bytes.Buffer
	n, err := cp.WriteTo(&buf)
	if err != nil || n != int64(buf.Len()) {
		t.Fatalf("WriteTo: %d bytes (buffer %d), %v", n, buf.Len(), err)
	}
	return buf.Bytes()
}

func TestCheckpointRestore(t *testing.T) {
	w := newWorkload(21, 300)
	src := openStore(t, t.TempDir())
	defer src.Close()
	w.run(t, src)
	cp, err := src.Checkpoint()
	if err != nil {
		t.Fatal(err)
	}
	// Applies after the checkpoint do not leak into it.
	srcIdx, srcDigest := digestOf(t, src)
	more := newWorkload(22, 100)
	for i := range more.entries {
		more.entries[i].index += srcIdx
	}
	more.run(t, src)
	var buf bytes.Buffer
	if _, err := cp.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	cp.Release()
	cp.Release() // idempotent
	if entries, _ := os.ReadDir(filepath.Join(src.dir, checkpointsDir)); len(entries) != 0 {
		t.Errorf("released checkpoint left %d entries", len(entries))
	}

	// The target has other data, which must be fully replaced.
	dstDir := t.TempDir()
	dst := openStore(t, dstDir)
	newWorkload(99, 300).run(t, dst)
	sub := dst.Subscribe("")
	defer sub.Close()
	if err := dst.Restore(bytes.NewReader(buf.Bytes())); err != nil {
		t.Fatal(err)
	}
	idx, d := digestOf(t, dst)
	if d != srcDigest || idx != srcIdx || dst.AppliedIndex() != srcIdx {
		t.Fatalf("restored %x@%d, want %x@%d", d, idx, srcDigest, srcIdx)
	}
	select {
	case c := <-sub.C:
		if c.Kind != Reset || c.Index != srcIdx {
			t.Errorf("after restore got %+v, want Reset", c)
		}
	default:
		t.Error("no Reset after restore")
	}
	checkInvariants(t, dst)

	// The restored store goes on like the source, and survives a reopen.
	more.run(t, dst)
	_, want := digestOf(t, src)
	if _, got := digestOf(t, dst); got != want {
		t.Fatal("restored store diverged after further applies")
	}
	dst.Close()
	dst = openStore(t, dstDir)
	defer dst.Close()
	if _, got := digestOf(t, dst); got != want {
		t.Fatal("restored store changed across reopen")
	}
	for _, p := range []string{restoreDir, oldDir} {
		if _, err := os.Stat(filepath.Join(dstDir, p)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind: %v", p, err)
		}
	}
}

func TestRestoreRejectsBadArchives(t *testing.T) {
	tarOf := func(hdrs ...*tar.Header) []byte {
		var buf bytes.Buffer
		tw := tar.NewWriter(&buf)
		for _, h := range hdrs {
			if err := tw.WriteHeader(h); err != nil {
				t.Fatal(err)
			}
			if h.Size > 0 {
				tw.Write(bytes.Repeat([]byte("x"), int(h.Size)))
			}
		}
		tw.Close()
		return buf.Bytes()
	}
	cases := map[string][]byte{
		"traversal":  tarOf(&tar.Header{Name: "../evil", Typeflag: tar.TypeReg, Size: 1, Mode: 0o600}),
		"absolute":   tarOf(&tar.Header{Name: "/tmp/evil", Typeflag: tar.TypeReg, Size: 1, Mode: 0o600}),
		"symlink":    tarOf(&tar.Header{Name: "link", Typeflag: tar.TypeSymlink, Linkname: "/etc/passwd"}),
		"not pebble": tarOf(&tar.Header{Name: "junk", Typeflag: tar.TypeReg, Size: 3, Mode: 0o600}),
		"truncated":  []byte("definitely not a tar archive, but long enough to be read as one"),
	}
	for name, archive := range cases {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t)
			idx, before := digestOf(t, f.s)
			if err := f.s.Restore(bytes.NewReader(archive)); err == nil {
				t.Fatal("Restore accepted a bad archive")
			}
			if i, after := digestOf(t, f.s); after != before || i != idx {
				t.Fatal("failed Restore changed the store")
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(f.s.dir), "evil")); err == nil {
				t.Fatal("archive wrote outside the store")
			}
			f.ok(mailboxCreated(userA, "After", 0)) // still usable
		})
	}
}

// A crash between the two renames of a swap leaves dir/pebble.restore and
// no dir/pebble: Open must finish the swap. A crash before the swap leaves
// both: Open keeps the live store.
func TestOpenRecoversInterruptedSwap(t *testing.T) {
	w := newWorkload(8, 150)
	src := openStore(t, t.TempDir())
	w.run(t, src)
	snap := checkpointBytes(t, src)
	idx, want := digestOf(t, src)
	src.Close()

	t.Run("between renames", func(t *testing.T) {
		dir := t.TempDir()
		old := openStore(t, dir)
		newFixtureOn(t, old)
		old.Close()
		if err := untar(bytes.NewReader(snap), filepath.Join(dir, restoreDir)); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(filepath.Join(dir, pebbleDir), filepath.Join(dir, oldDir)); err != nil {
			t.Fatal(err)
		}
		s := openStore(t, dir)
		defer s.Close()
		if i, d := digestOf(t, s); d != want || i != idx {
			t.Fatal("Open did not finish the swap")
		}
	})
	t.Run("before swap", func(t *testing.T) {
		dir := t.TempDir()
		old := openStore(t, dir)
		newFixtureOn(t, old)
		oldIdx, oldDigest := digestOf(t, old)
		old.Close()
		if err := untar(bytes.NewReader(snap), filepath.Join(dir, restoreDir)); err != nil {
			t.Fatal(err)
		}
		s := openStore(t, dir)
		defer s.Close()
		if i, d := digestOf(t, s); d != oldDigest || i != oldIdx {
			t.Fatal("Open did not keep the live store")
		}
		if _, err := os.Stat(filepath.Join(dir, restoreDir)); !errors.Is(err, os.ErrNotExist) {
			t.Error("half-received snapshot left behind")
		}
	})
}

func newFixtureOn(t *testing.T, s *Store) {
	h := &harness{t: t, s: s}
	h.ok(domainAdded("old.example"), userCreated("old@old.example", 1))
}

// stateMachine mirrors cluster.StateMachine with its Checkpoint declared as
// the same alias: *Store satisfies it without an adapter.
type stateMachine interface {
	Apply(index uint64, proposals [][]byte) [][]byte
	AppliedIndex() uint64
	Checkpoint() (interface {
		WriteTo(w io.Writer) (int64, error)
		Release()
	}, error)
	Restore(r io.Reader) error
}

var _ stateMachine = (*Store)(nil)

// Reads run concurrently with Apply and Restore; a read during the swap
// either sees a store or waits, never a closed handle.
func TestReadsDuringApplyAndRestore(t *testing.T) {
	w := newWorkload(31, 200)
	src := openStore(t, t.TempDir())
	defer src.Close()
	w.run(t, src)
	snap := checkpointBytes(t, src)

	s := openStore(t, t.TempDir())
	defer s.Close()
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				for _, u := range genUsers {
					mbs, err := s.Mailboxes(u)
					if err != nil {
						t.Errorf("Mailboxes: %v", err)
						return
					}
					for _, mb := range mbs {
						err := s.Messages(mb.GetId(), func(_ uint32, m *evlog.MessageRecord) bool {
							_, _ = s.Blob(m.GetBlob()) // may be collected meanwhile
							return true
						})
						if err != nil {
							t.Errorf("Messages: %v", err)
							return
						}
					}
				}
				if _, _, err := s.Digest(); err != nil {
					t.Errorf("Digest: %v", err)
					return
				}
			}
		})
	}
	w.run(t, s)
	for range 3 {
		if err := s.Restore(bytes.NewReader(snap)); err != nil {
			t.Error(err)
		}
	}
	close(stop)
	wg.Wait()
}
