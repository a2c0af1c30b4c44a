package imap

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/cluster"
)

// TestReplyForStorage: cluster failures, a full disk among them, are a
// temporary NO [UNAVAILABLE] (RFC 5530), never OVERQUOTA, which is the
// user's quota and would have the client ask the user to delete mail.
func TestReplyForStorage(t *testing.T) {
	tests := []struct {
		name string
		err  error
		text string
	}{
		{"node low on disk", fmt.Errorf("propose appended: %w: 10 bytes free", cluster.ErrInsufficientStorage), errNoStorage.Text},
		{"leader low on disk", fmt.Errorf("propose moved: %w (127.0.0.1:7001): x", fmt.Errorf("%w: the leader is low on disk space", cluster.ErrInsufficientStorage)), errNoStorage.Text},
		{"no quorum", fmt.Errorf("propose: %w", cluster.ErrNoQuorum), errUnavailable.Text},
		{"timeout", context.DeadlineExceeded, errUnavailable.Text},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ie *imap.Error
			if !errors.As(replyFor(tc.err), &ie) {
				t.Fatalf("replyFor(%v) is not an IMAP status", tc.err)
			}
			if ie.Type != imap.StatusResponseTypeNo || ie.Code != imap.ResponseCodeUnavailable || ie.Text != tc.text {
				t.Fatalf("replyFor(%v) = %s [%s] %q, want NO [UNAVAILABLE] %q", tc.err, ie.Type, ie.Code, ie.Text, tc.text)
			}
		})
	}
}
