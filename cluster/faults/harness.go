package faults

import (
	"context"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/faults/proc"
)

// The real-process cluster is cluster/faults/proc's, the one driver the
// bench tools use too; this file ties a cluster's life to a test.
type (
	Options             = proc.Options
	NodeSpec            = proc.NodeSpec
	Ports               = proc.Ports
	Cluster             = proc.Cluster
	Node                = proc.Node
	Digest              = proc.Digest
	DigestMismatchError = proc.DigestMismatchError
	ClusterStatus       = proc.ClusterStatus
	DialFunc            = proc.DialFunc
	Target              = proc.Target
)

// ErrExited marks the error of a node that should be up but whose process
// has exited.
var ErrExited = proc.ErrExited

// New lays out a cluster without starting it, in opts.Dir or a directory
// from tb.TempDir. The processes are killed when the test ends; if it
// failed, the tail of each node's log is logged and the logs are copied to
// opts.KeepLogsDir.
func New(tb testing.TB, opts Options) (*Cluster, error) {
	tb.Helper()
	if opts.Dir == "" {
		opts.Dir = tb.TempDir()
	}
	c, err := proc.New(opts)
	if err != nil {
		return nil, err
	}
	// Registered after TempDir, so every process is gone before the
	// directory is removed, whichever way the test ends.
	tb.Cleanup(func() {
		if err := c.Close(); err != nil {
			tb.Logf("cleanup: %v", err)
		}
		if tb.Failed() {
			c.Report(tb.Logf)
		}
	})
	return c, nil
}

// Start lays out and starts a cluster and waits until every node is ready
// and all agree on a leader. It ends the test on failure.
func Start(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	c, err := New(tb, opts)
	if err != nil {
		tb.Fatal(err)
	}
	if err := c.StartAll(); err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.WaitReady(ctx); err != nil {
		tb.Fatalf("cluster did not come up: %v", err)
	}
	return c
}
