package smtp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

func TestReplyFor(t *testing.T) {
	rejected := func(code evlog.ErrorCode) error {
		return fmt.Errorf("deliver: %w", &propose.RejectedError{Code: code, Message: "x"})
	}
	tests := []struct {
		name string
		err  error
		code int
		enh  gosmtp.EnhancedCode
	}{
		{"no leader", fmt.Errorf("propose BlobStored: %w", cluster.ErrNoLeader), 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"no quorum", fmt.Errorf("propose: %w: %w", cluster.ErrNoQuorum, context.DeadlineExceeded), 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"shutdown", cluster.ErrShutdown, 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"node low on disk", fmt.Errorf("propose blob_stored: %w: 10 bytes free", cluster.ErrInsufficientStorage), 452, gosmtp.EnhancedCode{4, 3, 1}},
		{"timeout", context.DeadlineExceeded, 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"too large (a bug): still temporary", cluster.ErrTooLarge, 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"malformed outcome", propose.ErrMalformedOutcome, 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"anything else", errors.New("disk on fire"), 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"over quota", rejected(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA), 552, gosmtp.EnhancedCode{5, 2, 2}},
		{"user gone", rejected(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER), 550, gosmtp.EnhancedCode{5, 1, 1}},
		{"apply refused as invalid: temporary", rejected(evlog.ErrorCode_ERROR_CODE_INVALID), 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"blob collected meanwhile", rejected(evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB), 451, gosmtp.EnhancedCode{4, 3, 0}},
		{"already a reply", fmt.Errorf("wrapped: %w", errBareLineEnding), 550, gosmtp.EnhancedCode{5, 6, 0}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := replyFor(tc.err)
			if got == nil || got.Code != tc.code || got.EnhancedCode != tc.enh {
				t.Fatalf("replyFor(%v) = %+v, want %d %v", tc.err, got, tc.code, tc.enh)
			}
		})
	}
	if replyFor(nil) != nil {
		t.Fatal("replyFor(nil) is not nil")
	}
}

// failingProposer injects a cluster failure in front of a real node.
type failingProposer struct {
	real     Proposer
	err      error
	failFrom int32 // fail from this call on (0: every call)
	calls    atomic.Int32
}

func (f *failingProposer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	if f.calls.Add(1) > f.failFrom {
		return nil, f.err
	}
	return f.real.Propose(ctx, p)
}

// TestStorageFailuresAreTemporary: whatever the cluster says, a failed
// delivery is a 4xx after DATA, never go-smtp's permanent 554, and never
// 250; also when only the last of several chunk proposals fails.
func TestStorageFailuresAreTemporary(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	for _, tc := range []struct {
		name     string
		err      error
		failFrom int32
		big      bool
	}{
		{"no quorum", fmt.Errorf("%w: gave up", cluster.ErrNoQuorum), 0, false},
		{"plain error", errors.New("unexpected"), 0, false},
		{"too large", cluster.ErrTooLarge, 0, false},
		{"last proposal of a chunked body", cluster.ErrNoLeader, 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fp := &failingProposer{real: n.Node, err: tc.err, failFrom: tc.failFrom}
			_, addr := c.serve(t, n, MX, func(cfg *Config) { cfg.Proposer = fp })
			before := len(inbox(t, n, bob))
			cl := dial(t, addr)
			cl.hello()
			cl.must(250, "MAIL FROM:<%s>", sender)
			cl.must(250, "RCPT TO:<%s>", bob)
			body := message("fails")
			if tc.big {
				body = append(body, []byte(strings.Repeat(strings.Repeat("b", 78)+"\r\n", 4000))...)
			}
			code, msg := cl.data(body)
			if code != 451 || !strings.HasPrefix(msg, "4.3.0") {
				t.Fatalf("end of data: %d %s; want 451 4.3.0", code, msg)
			}
			if tc.big && fp.calls.Load() < 2 {
				t.Fatalf("%d proposals for a two-chunk body, want the staged chunk and the last (then an abandon)", fp.calls.Load())
			}
			if got := len(inbox(t, n, bob)); got != before {
				t.Fatal("message stored although the reply was an error")
			}
		})
	}
}

// TestSkippedAtApply: a recipient that vanished between RCPT and commit,
// or is over quota, is skipped by apply; with every recipient skipped the
// reply says why, from apply's reasons: 452 4.2.2 for a full mailbox (as
// at RCPT), 550 5.1.1 for a deleted user. With some delivered, the reply
// is 250 and apply queued a DSN for the others to the sender.
func TestSkippedAtApply(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	_, addr := c.serve(t, n, MX, nil)

	t.Run("over quota", func(t *testing.T) {
		user := uniqueAddress("quota")
		c.createUser(t, user, "pw")
		c.mustSubmit(t, ev(&evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: 100}}))
		cl := dial(t, addr)
		cl.hello()
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", user)
		if code, msg := cl.data(message("too much for the quota")); code != 452 || !strings.HasPrefix(msg, "4.2.2") {
			t.Fatalf("over quota: %d %s", code, msg)
		}
	})
	t.Run("deleted after RCPT", func(t *testing.T) {
		user := uniqueAddress("leaving")
		c.createUser(t, user, "pw")
		cl := dial(t, addr)
		cl.hello()
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", user)
		c.mustSubmit(t, ev(&evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: user}}))
		if code, msg := cl.data(message("gone")); code != 550 || !strings.HasPrefix(msg, "5.1.1") {
			t.Fatalf("user deleted after RCPT: %d %s", code, msg)
		}
	})
	t.Run("one of two skipped", func(t *testing.T) {
		user := uniqueAddress("quota2")
		c.createUser(t, user, "pw")
		c.mustSubmit(t, ev(&evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: 100}}))
		before := len(inbox(t, n, bob))
		cl := dial(t, addr)
		cl.hello()
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", user)
		cl.must(250, "RCPT TO:<%s>", bob)
		if code, msg := cl.data(message("half")); code != 250 {
			t.Fatalf("one recipient over quota, one fine: %d %s", code, msg)
		}
		if got := len(inbox(t, n, bob)); got != before+1 {
			t.Fatal("bob did not get it")
		}
		// The skipped copy is not silently lost: its DSN to the sender is
		// in the queue, committed with the delivery.
		entries, err := n.Store.QueueEntries(1000)
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, q := range entries {
			if q.GetLocalFailure() && q.GetMailFrom() == sender && len(q.GetRecipients()) == 1 &&
				q.GetRecipients()[0].GetAddress() == user && q.GetRecipients()[0].GetEnhancedStatus() == "5.2.2" {
				found = true
			}
		}
		if !found {
			t.Fatalf("no DSN queued for %s among %d queue entries", user, len(entries))
		}
	})
}
