package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// Line is the line a benchmark's report gives the machine and the source
// the binary was built from.
func (m Machine) Line() string {
	return fmt.Sprintf("Machine: %d cores (%s), %.0f GiB RAM, Debian %s, Linux %s; Surat built from %s; load average %s at %s.",
		m.Cores, orDash(m.CPU), float64(m.MemBytes)/(1<<30), orDash(m.Debian), orDash(m.Kernel), m.Commit,
		orDash(m.Load), m.Now.Format("2006-01-02 15:04 UTC"))
}

// Records is a benchmark's JSON lines being written, one record of type T
// a line: to PATH.partial until Commit renames it to PATH, so that a run
// that fails leaves its records in the .partial file and the last
// complete run's file alone.
type Records[T any] struct {
	path      string
	f         *os.File
	committed bool
	all       []T
}

// CreateRecords creates path's directory and PATH.partial.
func CreateRecords[T any](path string) (*Records[T], error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	f, err := os.Create(path + ".partial")
	if err != nil {
		return nil, err
	}
	return &Records[T]{path: path, f: f}, nil
}

// Emit writes rec as one JSON line and keeps it (All).
func (r *Records[T]) Emit(rec T) error {
	r.all = append(r.all, rec)
	return json.NewEncoder(r.f).Encode(rec)
}

// All is every record emitted so far.
func (r *Records[T]) All() []T { return r.all }

// Close closes the file without renaming it (a no-op after Commit).
func (r *Records[T]) Close() error {
	if r.committed {
		return nil
	}
	return r.f.Close()
}

// Commit closes the file and renames it to its path.
func (r *Records[T]) Commit() error {
	r.committed = true
	if err := r.f.Close(); err != nil {
		return err
	}
	return os.Rename(r.path+".partial", r.path)
}

// WriteFile replaces path through PATH.tmp and a rename, so that a reader
// never sees half a report.
func WriteFile(path string, data []byte) error {
	if err := os.WriteFile(path+".tmp", data, 0o644); err != nil {
		return err
	}
	return os.Rename(path+".tmp", path)
}

// ReadRecords reads the records of the file path with read (one of the
// benchmarks' JSON-lines readers); its errors name path.
func ReadRecords[T any](path string, read func(io.Reader) ([]T, error)) ([]T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	recs, err := read(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return recs, nil
}

// Logf is the benchmark commands' progress line on stderr, after the time
// of day.
func Logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// BinPath is the absolute path of the surat binary a -bin flag names; it
// must exist.
func BinPath(bin string) (string, error) {
	p, err := filepath.Abs(bin)
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("-bin: %w (make build)", err)
	}
	return p, nil
}

// WriteMarkdown writes the report write makes to path (WriteFile) and
// logs it.
func WriteMarkdown(path string, write func(io.Writer)) error {
	var md bytes.Buffer
	write(&md)
	if err := WriteFile(path, md.Bytes()); err != nil {
		return err
	}
	Logf("wrote %s", path)
	return nil
}
