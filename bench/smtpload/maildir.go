package smtpload

import (
	"os"
	"path/filepath"
	"time"
)

// CountMaildir counts the entries of every directory matching pattern
// (a filepath.Glob pattern such as ".../mail/example.test/*/Maildir/new").
func CountMaildir(pattern string) int {
	dirs, _ := filepath.Glob(pattern)
	n := 0
	for _, d := range dirs {
		entries, err := os.ReadDir(d)
		if err == nil {
			n += len(entries)
		}
	}
	return n
}

// WaitMaildir polls the maildirs every 50 ms until they hold r.Accepted
// messages or timeout has passed since r.Started, and fills the end-to-end
// fields of r: the time from the run's start until the last message was
// seen in a maildir (as the peers' wait-delivered.py measures it). The
// maildirs must have been empty before the run.
func WaitMaildir(r *Result, pattern string, timeout time.Duration) {
	for {
		n := CountMaildir(pattern)
		elapsed := time.Since(r.Started)
		if n >= r.Accepted || elapsed > timeout {
			r.Delivered, r.E2ES = n, elapsed.Seconds()
			r.E2ETimeout = n < r.Accepted
			if elapsed > 0 {
				r.E2EPerS = float64(n) / elapsed.Seconds()
			}
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
}
