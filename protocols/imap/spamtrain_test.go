package imap

import (
	"context"
	"slices"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
)

// learnerCalls records what the IMAP server tells its SpamLearner.
type learnerCalls struct {
	mu    sync.Mutex
	calls []string
	uids  [][]uint32
}

func (l *learnerCalls) Filed(_ context.Context, user, from string, to *evlog.MailboxRecord, uids []uint32) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "filed "+from+" -> "+to.GetSpecialUse()+" "+to.GetName())
	l.uids = append(l.uids, uids)
}

func (l *learnerCalls) Appended(_ context.Context, user, to string, body []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, "appended "+to)
	l.uids = append(l.uids, nil)
}

// The hooks: COPY, MOVE and APPEND tell the learner, after they
// committed, with the special uses of both ends and the new UIDs.
func TestSpamLearnerHooks(t *testing.T) {
	c := sharedCluster(t)
	l := &learnerCalls{}
	_, addr, _ := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.SpamLearner = l })
	user := c.NewUser(t, "learner", password)
	cl, _ := dial(t, addr, user)

	appendMsg(t, cl, "INBOX", msg("one", "cheap pills"))
	appendMsg(t, cl, "INBOX", msg("two", "more pills"))
	appendMsg(t, cl, "Junk", msg("three", "junk appended"))
	mustSelect(t, cl, "INBOX")
	if _, err := cl.Copy(imap.UIDSetNum(1), "Junk").Wait(); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Move(imap.UIDSetNum(2), "Junk").Wait(); err != nil {
		t.Fatal(err)
	}
	mustSelect(t, cl, "Junk")
	if _, err := cl.Move(imap.UIDSetNum(2), "INBOX").Wait(); err != nil {
		t.Fatal(err)
	}

	l.mu.Lock()
	defer l.mu.Unlock()
	want := []string{"appended ", "appended ", `appended \Junk`,
		`filed  -> \Junk Junk`, `filed  -> \Junk Junk`, `filed \Junk ->  INBOX`}
	if !slices.Equal(l.calls, want) {
		t.Fatalf("calls:\n%q\nwant\n%q", l.calls, want)
	}
	// Junk got UID 1 by APPEND, then 2 (COPY) and 3 (MOVE); INBOX's next is 3.
	if !slices.Equal(l.uids[3], []uint32{2}) || !slices.Equal(l.uids[4], []uint32{3}) || !slices.Equal(l.uids[5], []uint32{3}) {
		t.Fatalf("uids %v", l.uids)
	}
}
