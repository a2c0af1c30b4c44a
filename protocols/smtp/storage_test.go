package smtp

import (
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/surat-mail/surat/cluster"
)

// TestInsufficientStorageIs452: a node low on disk space refuses the
// delivery with 452 4.3.1 (RFC 5321 §4.2.2 "insufficient system storage",
// RFC 3463 X.3.1 "mail system full"), a temporary reply that makes the
// client keep the message and retry, and stores nothing; the session goes
// on. Also when only the last chunk of a large body is refused.
func TestInsufficientStorageIs452(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	low := fmt.Errorf("%w: 1048576 bytes free on /data/raft, below the minimum of 268435456", cluster.ErrInsufficientStorage)
	for _, tc := range []struct {
		name     string
		failFrom int32
		big      bool
	}{
		{"first proposal", 0, false},
		{"last proposal of a chunked body", 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := &failingProposer{real: n.Node, err: low, failFrom: tc.failFrom}
			_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Proposer = fp })
			before := len(inbox(t, n, bob))
			cl := dial(t, addr)
			cl.hello()
			cl.must(250, "MAIL FROM:<%s>", sender)
			cl.must(250, "RCPT TO:<%s>", bob)
			body := message("disk low")
			if tc.big {
				body = append(body, []byte(strings.Repeat(strings.Repeat("b", 78)+"\r\n", 4000))...)
			}
			code, msg := cl.data(body)
			if code != 452 || !strings.HasPrefix(msg, "4.3.1") {
				t.Fatalf("end of data on a node low on disk: %d %s; want 452 4.3.1", code, msg)
			}
			if tc.big && fp.calls.Load() < 2 {
				t.Fatalf("%d proposals for a two-chunk body, want the staged chunk and the last (then an abandon)", fp.calls.Load())
			}
			if got := len(inbox(t, n, bob)); got != before {
				t.Fatal("message stored although the reply was 452")
			}
			cl.must(250, "NOOP")
		})
	}
}

// TestLowStorageRefusesMail: while the node says its disk is low, MAIL
// gets 452 4.3.1 before any body is sent; once space is back, mail flows.
func TestLowStorageRefusesMail(t *testing.T) {
	c := sharedCluster(t)
	var low atomic.Bool
	_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) { cfg.StorageLow = low.Load })
	cl := dial(t, addr)
	cl.hello()
	low.Store(true)
	if code, msg := cl.cmd("MAIL FROM:<%s>", sender); code != 452 || !strings.HasPrefix(msg, "4.3.1") {
		t.Fatalf("MAIL while low: %d %s, want 452 4.3.1", code, msg)
	}
	low.Store(false)
	cl.must(250, "MAIL FROM:<%s>", sender)
	cl.must(250, "RCPT TO:<%s>", bob)
	if code, msg := cl.data(message("space is back")); code != 250 {
		t.Fatalf("DATA once space is back: %d %s", code, msg)
	}
}
