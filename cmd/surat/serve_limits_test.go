package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// TestParseServeUserLimits: the per-user limits default to the protocol
// packages' defaults, 0 turns one off, and values that would make the
// server refuse everything are usage errors.
func TestParseServeUserLimits(t *testing.T) {
	base := baseArgs(filepath.Join(t.TempDir(), "n1", "data")) // --max-message-size 1048576
	c, err := parseServe(base, envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxSendPerHour != 500 || c.MaxQueuedBytesPerUser != 256<<20 || c.MaxMailboxes != 1000 || c.MaxMailboxDepth != 16 {
		t.Errorf("defaults: send %d, queued %d, mailboxes %d, depth %d", c.MaxSendPerHour, c.MaxQueuedBytesPerUser, c.MaxMailboxes, c.MaxMailboxDepth)
	}
	c, err = parseServe(with(base, "--max-send-per-hour", "0", "--max-queued-bytes-per-user", "0",
		"--max-mailboxes", "0", "--max-mailbox-depth", "0"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.MaxSendPerHour != 0 || c.MaxQueuedBytesPerUser != 0 || c.MaxMailboxes != 0 || c.MaxMailboxDepth != 0 {
		t.Errorf("zeros: %+v", c)
	}
	if noLimitIfZero(c.MaxSendPerHour) >= 0 || noLimitIfZero(int64(5)) != 5 {
		t.Error("noLimitIfZero does not map 0 to the packages' no-limit value")
	}
	for _, tc := range []struct{ name, flag, value string }{
		{"negative send", "--max-send-per-hour", "-1"},
		{"bad send", "--max-send-per-hour", "lots"},
		{"queue below message size", "--max-queued-bytes-per-user", "1048575"},
		{"negative queue", "--max-queued-bytes-per-user", "-5"},
		{"fewer mailboxes than a new account has", "--max-mailboxes", "5"},
		{"bad depth", "--max-mailbox-depth", "deep"},
	} {
		_, err := parseServe(with(base, tc.flag, tc.value), envOf(nil))
		if err == nil || !strings.Contains(err.Error(), tc.flag) {
			t.Errorf("%s: err %v, want one naming %s", tc.name, err, tc.flag)
		}
	}
}
