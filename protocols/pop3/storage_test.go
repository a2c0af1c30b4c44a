package pop3

import (
	"fmt"
	"strings"
	"testing"

	"github.com/surat-mail/surat/cluster"
)

// TestQuitReplyForStorage: a QUIT whose deletions cannot be committed
// because the node is low on disk space is -ERR [SYS/TEMP] (RFC 3206 §4),
// says so, and never claims anything was deleted.
func TestQuitReplyForStorage(t *testing.T) {
	low := fmt.Errorf("propose expunged: %w: 10 bytes free", cluster.ErrInsufficientStorage)
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"node low on disk", low, errQuitNoStorage},
		{"partly committed, then low on disk", fmt.Errorf("%w: %w", errPartialCommit, low), "-ERR [SYS/TEMP] Some deleted messages not removed"},
		{"no quorum", fmt.Errorf("propose: %w", cluster.ErrNoQuorum), errQuitTemporary},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := quitReplyFor(tc.err)
			if !strings.HasPrefix(got, tc.want) || !strings.HasPrefix(got, "-ERR [SYS/TEMP]") {
				t.Fatalf("quitReplyFor(%v) = %q, want %q", tc.err, got, tc.want)
			}
		})
	}
}
