package bench

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/faults/proc"
)

const (
	// pollInterval is how often a survivor is asked for its leader.
	pollInterval = 10 * time.Millisecond
	// slowHandOver: a SIGTERM round slower than this is logged.
	slowHandOver = 100 * time.Millisecond
)

// failover signals the leader and returns how long until a surviving node
// names a different leader, then restarts the old leader on its data and
// returns how long until the whole cluster is ready again.
func failover(b *testing.B, c *proc.Cluster, sig syscall.Signal) (elected, rejoined time.Duration, err error) {
	ctx := context.Background()
	old, err := proc.Within(ctx, 30*time.Second, c.WaitReady)
	if err != nil {
		return 0, 0, err
	}
	start := time.Now()
	if err := old.Signal(sig); err != nil {
		return 0, 0, err
	}
	wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if _, err := c.WaitNewLeader(wctx, old, pollInterval); err != nil {
		return 0, 0, fmt.Errorf("after %s of %s: %w", sig, old.ID(), err)
	}
	elected = time.Since(start)
	code, err := old.Wait(15 * time.Second)
	if err != nil {
		return 0, 0, err
	}
	if sig == syscall.SIGTERM && code != 0 {
		return 0, 0, fmt.Errorf("%s exited with status %d after SIGTERM", old.ID(), code)
	}
	if sig == syscall.SIGTERM && elected > slowHandOver {
		// A hand-over should beat an election timeout; say why it did not.
		b.Logf("SIGTERM to %s: new leader only after %v\n%s", old.ID(), elected, c.LogTails(5))
	}
	restart := time.Now()
	if err := old.Start(); err != nil {
		return 0, 0, err
	}
	if _, err := proc.Within(ctx, 30*time.Second, c.WaitReady); err != nil {
		return 0, 0, err
	}
	return elected, time.Since(restart), nil
}

// BenchmarkFailover measures how long a three-process cluster is without a
// known leader after the leader is killed (SIGKILL) or stopped (SIGTERM,
// which hands leadership over). One iteration is one round: signal the
// leader, time the election, restart the old leader on its data and wait
// for the cluster to settle, so ns/op is the whole round and the metrics
// are the median and the worst election of the final run's rounds.
// -benchtime 5x runs exactly five rounds of each. bench/cmd/failover
// measures the same with SMTP traffic flowing, for the report.
func BenchmarkFailover(b *testing.B) {
	bin, err := filepath.Abs(filepath.Join("..", "bin", "surat"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(bin); errors.Is(err, os.ErrNotExist) {
		b.Skip("bin/surat is missing: run `make build` (or `make bench`) first")
	}
	// The nodes are killed before the directory is removed: Cleanup runs
	// in reverse order of registration.
	dir := b.TempDir()
	c, err := proc.Start(context.Background(), proc.Options{Bin: bin, Dir: dir, Domain: "bench.test", LogLevel: "warn"}, 60*time.Second)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	for _, s := range []struct {
		name string
		sig  syscall.Signal
	}{{"signal=KILL", syscall.SIGKILL}, {"signal=TERM", syscall.SIGTERM}} {
		b.Run(s.name, func(b *testing.B) {
			var elections, rejoins []time.Duration
			for range b.N {
				elected, rejoined, err := failover(b, c, s.sig)
				if err != nil {
					b.Fatalf("%v\n%s", err, c.LogTails(15))
				}
				elections = append(elections, elected)
				rejoins = append(rejoins, rejoined)
			}
			b.ReportMetric(ms(percentile(elections, 50)), "p50-ms")
			b.ReportMetric(ms(percentile(elections, 100)), "max-ms")
			b.ReportMetric(ms(percentile(rejoins, 50)), "rejoin-p50-ms")
		})
	}
}
