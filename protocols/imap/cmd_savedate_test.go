package imap

import (
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// testClock is a settable Config.Now.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// TestCmdSaveDate: SAVEDATE (RFC 8514): FETCH SAVEDATE is when the
// message entered the mailbox (APPEND, COPY), not its internal date;
// SEARCH SAVEDON, SAVEDSINCE, SAVEDBEFORE and SAVEDATESUPPORTED.
func TestCmdSaveDate(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "savedate", password)
	t1 := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	t2 := time.Date(2026, 3, 12, 12, 0, 0, 0, time.UTC)
	clock := &testClock{now: t1}
	_, _, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.Now = clock.Now })
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	playScript(t, rc, `
		C: a APPEND INBOX "01-Jan-2020 10:00:00 +0000" {12+}
		C: Subject: x
		C:
		S: a OK
		C: b SELECT INBOX
		S: ...
		S: b OK`)
	clock.set(t2)
	playScript(t, rc, `
		C: c COPY 1 INBOX
		S: ...
		S: c OK
		C: d FETCH 1:2 (SAVEDATE INTERNALDATE)
		S: * 1 FETCH (INTERNALDATE " 1-Jan-2020 10:00:00 +0000" SAVEDATE "`+wire.FormatDateTime(time.Unix(t1.Unix(), 0))+`")
		S: * 2 FETCH (INTERNALDATE " 1-Jan-2020 10:00:00 +0000" SAVEDATE "`+wire.FormatDateTime(time.Unix(t2.Unix(), 0))+`")
		S: d OK
		C: e SEARCH SAVEDON 10-Mar-2026
		S: * SEARCH 1
		S: e OK
		C: f SEARCH SAVEDSINCE 11-Mar-2026
		S: * SEARCH 2
		S: f OK
		C: g SEARCH SAVEDBEFORE 11-Mar-2026
		S: * SEARCH 1
		S: g OK
		C: h SEARCH SAVEDATESUPPORTED
		S: * SEARCH 1 2
		S: h OK
		C: i SEARCH NOT SAVEDON 12-Mar-2026
		S: * SEARCH 1
		S: i OK
		C: j SEARCH SAVEDON 1-Foo-2026
		S: j BAD`)
}
