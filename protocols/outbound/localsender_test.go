package outbound

import (
	"testing"
	"time"
)

// TestDSNToSenderInAnotherSpelling: the envelope sender is kept as the
// client wrote it; a bounce goes to the local user whatever the case of
// the address or a trailing dot on its domain (protocols/address's one
// canonical form), not out to the Internet.
func TestDSNToSenderInAnotherSpelling(t *testing.T) {
	c := startCluster(t, 1, time.Hour)
	l := c.Leader(t)
	id := c.queue(l, "ALICE@Example.TEST.", []string{"reject-carol@remote.test"}, message("bounce me too"))
	c.waitGone(id, 15*time.Second)
	waitUntil(t, 5*time.Second, "the DSN in alice's INBOX", func() bool { return len(inbox(t, l, alice)) == 1 })
	checkDSN(t, inbox(t, l, alice)[0], "reject-carol@remote.test")
}
