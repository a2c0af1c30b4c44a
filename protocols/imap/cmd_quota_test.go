package imap

import (
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func TestKib(t *testing.T) {
	for n, want := range map[uint64]uint64{0: 0, 1: 1, 1023: 1, 1024: 1, 1025: 2, 10 << 20: 10 << 10, 1<<64 - 1: 1 << 54} {
		if got := kib(n); got != want {
			t.Errorf("kib(%d) = %d, want %d", n, got, want)
		}
	}
}

// TestCmdQuota: GETQUOTA, GETQUOTAROOT and SETQUOTA (RFC 9208) answered as
// Dovecot answers them, for a user without a quota and then with one.
func TestCmdQuota(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "quotacmd", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	runScript(t, addr, "", `
		C: a GETQUOTAROOT INBOX
		S: a BAD
		C: b CAPABILITY
		S: * CAPABILITY
		S: b OK`)
	rc := dialRawTLS(t, addr, user)
	appendRaw(rc, "INBOX", "Subject: one\r\n\r\n"+strings.Repeat("x", 1500)+"\r\n")
	caps := " " + rc.cmd("a", "CAPABILITY")[0] + " "
	for _, want := range []string{"QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE"} {
		if !strings.Contains(caps, " "+want+" ") {
			t.Errorf("%s not in %q", want, caps)
		}
	}
	// No quota: no QUOTAROOT, and the root has no resources.
	playScript(t, rc, `
		C: b GETQUOTAROOT INBOX
		S: b OK No quota
		C: c GETQUOTA "User quota"
		S: c OK
		C: d GETQUOTA ""
		S: d NO [NONEXISTENT]
		C: e GETQUOTA "user quota"
		S: e NO [NONEXISTENT]
		C: f SETQUOTA "User quota" (STORAGE 100)
		S: f NO [NOPERM]
		C: g SETQUOTA "User quota" (STORAGE)
		S: g BAD
		C: h GETQUOTA
		S: h BAD
		C: i GETQUOTAROOT INBOX extra
		S: i BAD
		C: j NOOP
		S: j OK`)
	rc.conn.Close()

	c.Submit(t, &evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: 10 << 20}}})
	// 1,519 octets used: 2 KiB rounded up, of 10,240.
	runScript(t, addr, user, `
		C: a GETQUOTAROOT INBOX
		S: * QUOTAROOT INBOX "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240)
		S: a OK
		C: b GETQUOTAROOT inbox
		S: * QUOTAROOT INBOX "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240)
		S: b OK
		C: c GETQUOTAROOT "&AOk-t&AOk-"
		S: * QUOTAROOT &AOk-t&AOk- "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240)
		S: c OK
		C: d GETQUOTA "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240)
		S: d OK
		C: e SELECT INBOX
		S: ...
		S: e OK
		C: f GETQUOTAROOT INBOX
		S: * QUOTAROOT INBOX "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240)
		S: f OK
		C: g ENABLE UTF8=ACCEPT
		S: * ENABLED UTF8=ACCEPT
		S: g OK
		C: h GETQUOTAROOT "été"
		S: * QUOTAROOT "été" "User quota"
		S: ...
		S: h OK`)

	// A message limit (RFC 9208 §5.2 MESSAGE): listed after STORAGE, and
	// an APPEND past it is refused before its literal is sent, a
	// MULTIAPPEND (RFC 3502) that would pass it at its message, and a
	// COPY by apply.
	messages := uint64(3)
	c.Submit(t, &evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: 10 << 20, Messages: &messages}}})
	runScript(t, addr, user, `
		C: a GETQUOTA "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240 MESSAGE 1 3)
		S: a OK
		C: b APPEND INBOX {5+}
		C: hello
		S: b OK [APPENDUID
		C: c APPEND INBOX {5+}
		C: hello {5+}
		C: hello
		S: c NO [OVERQUOTA]
		C: d SELECT INBOX
		S: ...
		S: d OK
		C: e COPY 1:2 INBOX
		S: e NO [OVERQUOTA]
		C: f APPEND INBOX {5}
		S: + Ready
		C: hello
		S: ...
		S: f OK [APPENDUID
		C: g APPEND INBOX {5}
		S: g NO [OVERQUOTA]
		C: h GETQUOTAROOT INBOX
		S: * QUOTAROOT INBOX "User quota"
		S: * QUOTA "User quota" (STORAGE 2 10240 MESSAGE 3 3)
		S: h OK`)
}

// TestImaplibQuota reads the quota through Python's imaplib (getquotaroot,
// getquota; testdata/imaplib_quota.py), a client written without
// knowledge of this server.
func TestImaplibQuota(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibquota", password)
	messages := uint64(2)
	c.Submit(t, &evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{Address: user, Bytes: 1 << 20, Messages: &messages}}})
	nolimit := c.NewUser(t, "imaplibnoquota", password)
	wantImaplibOK(t, c, "imaplib_quota.py", user, nolimit, password)
}
