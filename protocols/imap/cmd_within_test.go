package imap

import (
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// TestCmdWithin: WITHIN (RFC 5032): SEARCH YOUNGER and OLDER count back
// from now on the internal date.
func TestCmdWithin(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "within", password)
	now := time.Date(2026, 3, 10, 12, 0, 0, 0, time.UTC)
	clock := &testClock{now: now}
	_, _, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.Now = clock.Now })
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	date := func(ago time.Duration) string { return wire.FormatDateTime(now.Add(-ago)) }
	playScript(t, rc, `
		C: a APPEND INBOX "`+date(10*time.Hour)+`" {12+}
		C: Subject: x
		C:
		S: a OK
		C: b APPEND INBOX "`+date(100*time.Second)+`" {12+}
		C: Subject: y
		C:
		S: b OK
		C: c SELECT INBOX
		S: ...
		S: c OK
		C: d SEARCH YOUNGER 3600
		S: * SEARCH 2
		S: d OK
		C: e SEARCH OLDER 3600
		S: * SEARCH 1
		S: e OK
		C: f SEARCH YOUNGER 100
		S: * SEARCH 2
		S: f OK
		C: g SEARCH OLDER 100 YOUNGER 100000
		S: * SEARCH 1 2
		S: g OK
		C: h UID SEARCH NOT OLDER 50
		S: * SEARCH
		S: h OK
		C: i SEARCH YOUNGER 0
		S: i BAD`)
}
