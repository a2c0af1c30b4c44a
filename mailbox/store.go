package mailbox

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/bloom"
	"github.com/cockroachdb/pebble/v2/vfs"

	evlog "github.com/surat-mail/surat/log"
)

// Errors returned by reads.
var (
	// ErrNotFound: the user, alias, mailbox, message or blob does not exist.
	ErrNotFound = errors.New("mailbox: not found")
	// ErrClosed: the store is closed (or a failed Restore left it without a
	// database).
	ErrClosed = errors.New("mailbox: store closed")
)

// Subdirectories of the store's directory.
const (
	pebbleDir      = "pebble"         // the live database
	restoreDir     = "pebble.restore" // a snapshot being received
	oldDir         = "pebble.old"     // the previous database during a swap
	checkpointsDir = "checkpoints"    // checkpoints not yet released
)

// Options tunes a Store.
type Options struct {
	// Logger receives the store's and Pebble's logs; nil: slog.Default().
	Logger *slog.Logger
	// FeedBuffer is each change-feed subscription's channel capacity;
	// 0: 256.
	FeedBuffer int
	// CacheSize is Pebble's block cache in bytes; 0: defaultCacheSize.
	CacheSize int64

	// fs, set by tests, is the filesystem Pebble uses (to inject I/O
	// errors); nil: the operating system's.
	fs vfs.FS
	// noSpamMirror, set by tests, reads the spam models from Pebble only.
	noSpamMirror bool
}

// Checkpoint is a consistent copy of the store, taken between applies and
// streamed out later: WriteTo streams it as a tar archive that Restore
// accepts; Release removes it (once, after WriteTo or instead).
//
// It is an alias of an interface literal rather than a defined type, so a
// package that declares the same alias (as the cluster's state machine
// interface can) names the identical type, and *Store satisfies that
// interface without either package importing the other.
type Checkpoint = interface {
	WriteTo(w io.Writer) (int64, error)
	Release()
}

// Store holds the projections in Pebble. Apply, Checkpoint and Restore are
// serialised; reads may run concurrently with any of them.
type Store struct {
	dir    string
	opts   Options
	logger *slog.Logger

	// applyMu serialises Apply, Checkpoint, Restore and Close, and guards
	// marker.
	applyMu sync.Mutex
	marker  appliedMarker

	// mu guards db: reads and Apply hold the read side, Restore and Close
	// the write side while they replace or close the handle.
	mu sync.RWMutex
	db *pebble.DB

	// spam mirrors the classifier's models (spam_mirror.go).
	spam *spamMirror

	applied atomic.Uint64 // marker.applied(), for lock-free AppliedIndex
	ckptSeq atomic.Uint64 // names checkpoint directories
	feed    feed

	// testBeforeEvent, when set by a test, runs before each event is
	// applied; a panic there stands for a bug in apply's code.
	testBeforeEvent func(*evlog.Event)
	// testAfterProposal, when set by a test, runs after each proposal's
	// commit; a panic there simulates a crash between proposals.
	testAfterProposal func()
}

// Open opens (creating if needed) the store kept in dir. The directory is
// owned by the store: the database lives in dir/pebble, and a Restore that
// a crash interrupted is finished or discarded here.
func Open(dir string, opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.FeedBuffer <= 0 {
		opts.FeedBuffer = 256
	}
	s := &Store{dir: dir, opts: opts, logger: opts.Logger.With("component", "mailbox"), spam: newSpamMirror()}
	s.spam.disabled = opts.noSpamMirror
	s.feed.buffer = opts.FeedBuffer
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("mailbox: create %s: %w", dir, err)
	}
	if err := s.recoverSwap(); err != nil {
		return nil, err
	}
	if err := os.RemoveAll(filepath.Join(dir, checkpointsDir)); err != nil {
		return nil, fmt.Errorf("mailbox: remove stale checkpoints: %w", err)
	}
	db, m, err := s.openPebble(filepath.Join(dir, pebbleDir), false)
	if err != nil {
		return nil, err
	}
	s.db = db
	s.setMarker(m)
	s.logger.Info("store opened", "dir", dir, "raft_index", m.applied())
	return s, nil
}

// recoverSwap finishes or discards a directory swap that Restore began.
// The swap renames pebble → pebble.old, then pebble.restore → pebble; the
// snapshot is complete and synced before the first rename, so a missing
// pebble with a present pebble.restore means the second rename is due.
func (s *Store) recoverSwap() error {
	live := filepath.Join(s.dir, pebbleDir)
	restore := filepath.Join(s.dir, restoreDir)
	old := filepath.Join(s.dir, oldDir)
	if _, err := os.Stat(live); errors.Is(err, os.ErrNotExist) {
		switch {
		case exists(restore):
			s.logger.Warn("finishing interrupted restore")
			if err := os.Rename(restore, live); err != nil {
				return fmt.Errorf("mailbox: finish restore: %w", err)
			}
		case exists(old):
			if err := os.Rename(old, live); err != nil {
				return fmt.Errorf("mailbox: roll back restore: %w", err)
			}
		}
		if err := syncDir(s.dir); err != nil {
			return err
		}
	} else if err != nil {
		return fmt.Errorf("mailbox: stat %s: %w", live, err)
	}
	for _, p := range []string{restore, old} {
		if err := os.RemoveAll(p); err != nil {
			return fmt.Errorf("mailbox: remove %s: %w", p, err)
		}
	}
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// defaultCacheSize is the block cache when Options.CacheSize is zero:
// 256 MiB, a mail server's working set (the message, mailbox and chunk
// records that IMAP and POP3 sessions read again and again); 64 MiB made a
// 10,000-message mailbox miss the cache on every full FETCH.
const defaultCacheSize = 256 << 20

// openPebble opens the database at path (creating it unless mustExist) and
// reads its applied marker.
func (s *Store) openPebble(path string, mustExist bool) (*pebble.DB, appliedMarker, error) {
	popts := &pebble.Options{
		Logger:           pebbleLogger{s.logger.With("component", "pebble")},
		ErrorIfNotExists: mustExist,
	}
	if s.opts.fs != nil {
		popts.FS = s.opts.fs
	}
	// Apply looks up keys that mostly do not exist yet (a new body's blob
	// record, a new chunk): without bloom filters every such miss reads
	// index and data blocks at each level, which was ~30% of apply's CPU
	// in BenchmarkDeliveries.
	for i := range popts.Levels {
		popts.Levels[i].FilterPolicy = bloom.FilterPolicy(10)
	}
	// Message bodies are most of the bytes and are written once. Kept in
	// the LSM, every compaction rewrote them, and all nodes (applying the
	// same log) compacted at the same moment: periodic 200-500 ms stalls of
	// every commit under sustained SMTP ingest (bench/results/LOG.md). Value
	// separation keeps large values in blob files that compactions only
	// reference; a larger memtable flushes less often.
	popts.FormatMajorVersion = pebble.FormatValueSeparation
	popts.Experimental.EnableColumnarBlocks = func() bool { return true }
	popts.Experimental.ValueSeparationPolicy = func() pebble.ValueSeparationPolicy {
		return pebble.ValueSeparationPolicy{
			Enabled:               true,
			MinimumSize:           512,
			MaxBlobReferenceDepth: 10,
			RewriteMinimumAge:     10 * time.Minute,
			TargetGarbageRatio:    0.25,
		}
	}
	popts.MemTableSize = 32 << 20
	cacheSize := s.opts.CacheSize
	if cacheSize <= 0 {
		cacheSize = defaultCacheSize
	}
	cache := pebble.NewCache(cacheSize)
	defer cache.Unref()
	popts.Cache = cache
	db, err := pebble.Open(path, popts)
	if err != nil {
		return nil, appliedMarker{}, fmt.Errorf("mailbox: open pebble at %s: %w", path, err)
	}
	m, err := readMarker(db)
	if err != nil {
		_ = db.Close()
		return nil, appliedMarker{}, fmt.Errorf("mailbox: %s: %w", path, err)
	}
	return db, m, nil
}

type getter interface {
	Get(key []byte) ([]byte, io.Closer, error)
}

func readMarker(r getter) (appliedMarker, error) {
	v, closer, err := r.Get(appliedKey())
	if errors.Is(err, pebble.ErrNotFound) {
		return appliedMarker{}, nil
	}
	if err != nil {
		return appliedMarker{}, fmt.Errorf("read applied marker: %w", err)
	}
	defer closer.Close()
	return decodeAppliedMarker(v)
}

func (s *Store) setMarker(m appliedMarker) {
	s.marker = m
	s.applied.Store(m.applied())
}

// AppliedIndex is the index of the last log entry whose proposals are all
// applied.
func (s *Store) AppliedIndex() uint64 { return s.applied.Load() }

// Close syncs and closes the database and ends every feed subscription.
func (s *Store) Close() error {
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.feed.closeAll()
	s.spam.clear()
	if s.db == nil {
		return nil
	}
	db := s.db
	s.db = nil
	// A clean shutdown leaves nothing for the log to replay.
	syncErr := db.LogData(nil, pebble.Sync)
	if err := db.Close(); err != nil {
		return fmt.Errorf("mailbox: close pebble: %w", err)
	}
	if syncErr != nil {
		return fmt.Errorf("mailbox: sync on close: %w", syncErr)
	}
	return nil
}

// readDB runs fn with the database under the read lock.
func (s *Store) readDB(fn func(db *pebble.DB) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.db == nil {
		return ErrClosed
	}
	return fn(s.db)
}

// pebbleLogger routes Pebble's logs into slog, never to stderr.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...))
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...))
}

// Fatalf is called on broken invariants inside Pebble; it must not return.
func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	p.l.Error(msg, "fatal", true)
	panic("pebble: " + msg)
}

// syncDir fsyncs a directory so that renames and creations in it are
// durable.
func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("mailbox: open %s for sync: %w", dir, err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("mailbox: sync %s: %w", dir, err)
	}
	return nil
}
