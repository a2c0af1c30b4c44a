//go:build linux

package netns

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// runLock is an flock on /run/surat-netns/<id>.lock. The kernel drops it
// when its holder dies, however it dies, which is what tells a leftover from
// a live run: a pid could have been reused, a free lock cannot lie.
type runLock struct {
	path string
	file *os.File // nil when the lock file was already gone
}

func lockPath(id string) string { return filepath.Join(lockDir, id+".lock") }

// acquireRunLock creates and locks the file for a new run. A cleaner may
// unlink the file between our open and our flock (it saw a lock file with no
// namespaces and took it for a dead run), so the lock counts only if the path
// still names the inode we locked.
func acquireRunLock(id string) (*runLock, error) {
	if err := os.MkdirAll(lockDir, 0o700); err != nil {
		return nil, fmt.Errorf("netns: lock directory: %w", err)
	}
	path := lockPath(id)
	for attempt := 0; ; attempt++ {
		f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			return nil, fmt.Errorf("netns: lock %s: %w", path, err)
		}
		// Blocking is fine: a cleaner holds the lock only to unlink it.
		if err := unix.Flock(int(f.Fd()), unix.LOCK_EX); err != nil {
			f.Close()
			return nil, fmt.Errorf("netns: flock %s: %w", path, err)
		}
		same, err := sameFile(f, path)
		if err != nil {
			f.Close()
			return nil, err
		}
		if same {
			return &runLock{path: path, file: f}, nil
		}
		f.Close()
		if attempt == 10 {
			return nil, fmt.Errorf("netns: lock %s keeps being removed under us", path)
		}
	}
}

// claimDeadRun takes the lock of run id if its owner is dead. It returns nil
// and no error when the run is alive, or when another cleaner got there first.
func claimDeadRun(id string) (*runLock, error) {
	path := lockPath(id)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if errors.Is(err, fs.ErrNotExist) {
		// Namespaces without a lock file: the owner always locks before it
		// creates anything and unlinks only after deleting everything, so
		// nobody owns these.
		return &runLock{path: path}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("netns: open %s: %w", path, err)
	}
	if err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, unix.EWOULDBLOCK) {
			return nil, nil
		}
		return nil, fmt.Errorf("netns: flock %s: %w", path, err)
	}
	same, err := sameFile(f, path)
	if err != nil || !same {
		f.Close()
		return nil, err
	}
	return &runLock{path: path, file: f}, nil
}

// sameFile reports whether path still names f's inode.
func sameFile(f *os.File, path string) (bool, error) {
	held, err := f.Stat()
	if err != nil {
		return false, fmt.Errorf("netns: stat lock: %w", err)
	}
	named, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("netns: stat %s: %w", path, err)
	}
	return os.SameFile(held, named), nil
}

// release unlinks the lock file, then drops the lock: unlinking first means
// nobody can lock this inode and believe it is the run's.
func (l *runLock) release() error {
	if l.file == nil {
		return nil
	}
	err := os.Remove(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		err = nil
	}
	if err != nil {
		err = fmt.Errorf("netns: remove lock: %w", err)
	}
	return errors.Join(err, l.unlock())
}

// unlock drops the lock and keeps the file.
func (l *runLock) unlock() error {
	if l.file == nil {
		return nil
	}
	f := l.file
	l.file = nil
	if err := f.Close(); err != nil {
		return fmt.Errorf("netns: close lock: %w", err)
	}
	return nil
}
