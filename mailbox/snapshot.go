package mailbox

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Checkpoint captures the store as of the last Apply (docs/DESIGN.md, invariant
// 6). It holds the apply lock only while Pebble hard-links the files, so it
// is quick; the copy lives in dir/checkpoints until Release.
func (s *Store) Checkpoint() (Checkpoint, error) {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return nil, ErrClosed
	}
	root := filepath.Join(s.dir, checkpointsDir)
	if err := os.MkdirAll(root, 0o750); err != nil {
		return nil, fmt.Errorf("mailbox: checkpoint: %w", err)
	}
	index := s.marker.applied()
	dir := filepath.Join(root, fmt.Sprintf("%020d-%d", index, s.ckptSeq.Add(1)))
	// The WAL is written without sync; flushing it makes the copy hold
	// every applied proposal.
	if err := s.db.Checkpoint(dir, pebble.WithFlushedWAL()); err != nil {
		_ = os.RemoveAll(dir)
		return nil, fmt.Errorf("mailbox: checkpoint at index %d: %w", index, err)
	}
	s.logger.Info("checkpoint taken", "raft_index", index, "dir", dir)
	return &pebbleCheckpoint{dir: dir, logger: s.logger}, nil
}

// pebbleCheckpoint is a Pebble checkpoint directory, streamed as a tar.
type pebbleCheckpoint struct {
	dir     string
	logger  *slog.Logger
	release sync.Once
}

// WriteTo writes the checkpoint's files as a tar archive.
func (c *pebbleCheckpoint) WriteTo(w io.Writer) (int64, error) {
	cw := &countingWriter{w: w}
	tw := tar.NewWriter(cw)
	err := filepath.WalkDir(c.dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(c.dir, p)
		if err != nil || rel == "." {
			return err
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		hdr, err := tar.FileInfoHeader(info, "")
		if err != nil {
			return err
		}
		hdr.Name = filepath.ToSlash(rel)
		if d.IsDir() {
			hdr.Name += "/"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		if !info.Mode().IsRegular() {
			return nil
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		_, err = io.Copy(tw, f)
		return err
	})
	if err == nil {
		err = tw.Close()
	}
	if err != nil {
		return cw.n, fmt.Errorf("mailbox: stream checkpoint %s: %w", c.dir, err)
	}
	return cw.n, nil
}

// Release removes the checkpoint's files.
func (c *pebbleCheckpoint) Release() {
	c.release.Do(func() {
		if err := os.RemoveAll(c.dir); err != nil {
			c.logger.Warn("remove checkpoint", "dir", c.dir, "err", err)
		}
	})
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// Restore replaces the whole store with a checkpoint streamed by WriteTo.
// The archive is unpacked and synced into dir/pebble.restore and opened
// once to check it; then the directories are swapped by renames and the
// parent directory is synced, so a crash leaves the old store or the new
// one (Open finishes a half-done swap). Subscribers get a Reset.
func (s *Store) Restore(r io.Reader) error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	staging := filepath.Join(s.dir, restoreDir)
	if err := os.RemoveAll(staging); err != nil {
		return fmt.Errorf("mailbox: restore: clear %s: %w", staging, err)
	}
	if err := untar(r, staging); err != nil {
		_ = os.RemoveAll(staging)
		return fmt.Errorf("mailbox: restore: %w", err)
	}
	check, m, err := s.openPebble(staging, true)
	if err != nil {
		_ = os.RemoveAll(staging)
		return fmt.Errorf("mailbox: restore: snapshot does not open: %w", err)
	}
	if err := check.Close(); err != nil {
		_ = os.RemoveAll(staging)
		return fmt.Errorf("mailbox: restore: close snapshot: %w", err)
	}
	if err := syncDir(staging); err != nil {
		return err
	}
	if err := s.swapIn(staging); err != nil {
		return err
	}
	s.logger.Info("store restored from snapshot", "raft_index", m.applied())
	s.feed.publish([]Change{{Index: s.AppliedIndex(), Kind: Reset}})
	return nil
}

// swapIn replaces the live database with the one at staging.
func (s *Store) swapIn(staging string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The mirror copies the database being replaced; no reader can load a
	// model meanwhile (they hold s.mu's read side to use the handle).
	s.spam.clear()
	live := filepath.Join(s.dir, pebbleDir)
	old := filepath.Join(s.dir, oldDir)
	if s.db != nil {
		if err := s.db.Close(); err != nil {
			s.logger.Warn("close store before restore", "err", err)
		}
		s.db = nil
	}
	if err := os.RemoveAll(old); err != nil {
		return fmt.Errorf("mailbox: restore: clear %s: %w", old, err)
	}
	if err := os.Rename(live, old); err != nil && !errors.Is(err, os.ErrNotExist) {
		return s.reopenAfterFailedSwap(fmt.Errorf("mailbox: restore: move old store aside: %w", err))
	}
	if err := os.Rename(staging, live); err != nil {
		// Put the old store back; Open would do the same after a crash.
		_ = os.Rename(old, live)
		return s.reopenAfterFailedSwap(fmt.Errorf("mailbox: restore: move snapshot in: %w", err))
	}
	if err := syncDir(s.dir); err != nil {
		return s.reopenAfterFailedSwap(err)
	}
	if err := os.RemoveAll(old); err != nil {
		s.logger.Warn("remove old store after restore", "dir", old, "err", err)
	}
	db, m, err := s.openPebble(live, true)
	if err != nil {
		return fmt.Errorf("mailbox: restore: open restored store: %w", err)
	}
	s.db = db
	s.setMarker(m)
	return nil
}

// reopenAfterFailedSwap reopens whatever is live so the store stays usable,
// and returns cause.
func (s *Store) reopenAfterFailedSwap(cause error) error {
	db, m, err := s.openPebble(filepath.Join(s.dir, pebbleDir), true)
	if err != nil {
		return errors.Join(cause, err)
	}
	s.db = db
	s.setMarker(m)
	return cause
}

// untar unpacks a checkpoint archive into dir, refusing anything but
// regular files and directories below dir, and syncs what it wrote.
func untar(r io.Reader, dir string) error {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return err
	}
	dirs := []string{dir}
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("read archive: %w", err)
		}
		name := path.Clean(hdr.Name)
		if !filepath.IsLocal(filepath.FromSlash(name)) {
			return fmt.Errorf("archive entry %q leaves the snapshot directory", hdr.Name)
		}
		target := filepath.Join(dir, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o750); err != nil {
				return err
			}
			dirs = append(dirs, target)
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(target), 0o750); err != nil {
				return err
			}
			if err := writeSynced(target, tr); err != nil {
				return err
			}
		default:
			return fmt.Errorf("archive entry %q has type %q; only files and directories are allowed", hdr.Name, hdr.Typeflag)
		}
	}
	// Deepest first, so each directory's entries are durable before its
	// parent's.
	slices.Reverse(dirs)
	for _, d := range dirs {
		if err := syncDir(d); err != nil {
			return err
		}
	}
	return nil
}

func writeSynced(name string, r io.Reader) error {
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o640)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("sync %s: %w", name, err)
	}
	return f.Close()
}
