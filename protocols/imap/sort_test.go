package imap

import (
	"fmt"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/sortthread"
)

// TestSortView sorts and threads a mailbox's view from the node's store
// and header cache.
func TestSortView(t *testing.T) {
	c := sharedCluster(t)
	srv, addr, _ := c.serve(t, c.Nodes[0], nil)
	user := c.NewUser(t, "sortview", password)
	cl, _ := dial(t, addr, user)
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	bodies := []struct {
		arrival time.Duration
		header  string
	}{
		{3 * time.Hour, "Subject: beta\r\nFrom: Zed <zed@x.test>\r\nMessage-ID: <1@x>\r\nDate: Thu, 1 Jan 2026 05:00:00 +0000"},
		{1 * time.Hour, "Subject: Re: alpha\r\nFrom: amy@x.test\r\nMessage-ID: <2@x>\r\nIn-Reply-To: <3@x>\r\nDate: Thu, 1 Jan 2026 04:00:00 +0000"},
		{2 * time.Hour, "Subject: alpha\r\nFrom: Bob <bob@x.test>\r\nMessage-ID: <3@x>\r\nDate: Thu, 1 Jan 2026 01:00:00 +0000"},
		{0, "Subject: [list] Re: beta\r\nFrom: carl@x.test\r\nMessage-ID: <4@x>"},
	}
	for _, b := range bodies {
		body := []byte(b.header + "\r\n\r\nbody\r\n")
		cmd := cl.Append("INBOX", int64(len(body)), &imap.AppendOptions{Time: base.Add(b.arrival)})
		if _, err := cmd.Write(body); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	mb, err := srv.cfg.Store.MailboxByName(user, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	v, err := readSnapshot(srv.cfg.Store, mb.GetId())
	if err != nil {
		t.Fatal(err)
	}
	all := []int{0, 1, 2, 3}
	for _, tc := range []struct {
		criteria []sortthread.Criterion
		uid      bool
		want     string
	}{
		{[]sortthread.Criterion{{Key: sortthread.Arrival}}, false, "[4 2 3 1]"},
		{[]sortthread.Criterion{{Key: sortthread.Date}}, false, "[4 3 2 1]"}, // 4 has no Date: its arrival
		{[]sortthread.Criterion{{Key: sortthread.Subject}, {Key: sortthread.Date, Reverse: true}}, false, "[2 3 1 4]"},
		{[]sortthread.Criterion{{Key: sortthread.From}}, false, "[2 3 4 1]"},
		{[]sortthread.Criterion{{Key: sortthread.DisplayFrom}}, true, fmt.Sprint([]uint32{v.uids[1], v.uids[2], v.uids[3], v.uids[0]})},
	} {
		got, err := srv.sortView(v, all, tc.criteria, tc.uid)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != tc.want {
			t.Errorf("SORT %v: %v, want %s", tc.criteria, got, tc.want)
		}
	}
	// Only some messages: the search picked 1, 2 and 4.
	got, err := srv.sortView(v, []int{0, 1, 3}, []sortthread.Criterion{{Key: sortthread.Arrival}}, false)
	if err != nil || fmt.Sprint(got) != "[4 2 1]" {
		t.Errorf("SORT of a subset: %v, %v", got, err)
	}
	for _, tc := range []struct {
		alg  sortthread.Algorithm
		want string
	}{
		// 4 is a reply to 1 by its subject; threads go by their first
		// message's sent date.
		{sortthread.References, "(3 2)(1 4)"},
		// 4 has the earlier date of the two "beta" messages.
		{sortthread.OrderedSubject, "(4 1)(3 2)"},
	} {
		threads, err := srv.threadView(v, all, tc.alg, false)
		if err != nil {
			t.Fatal(err)
		}
		if got := string(sortthread.AppendThreads(nil, threads)); got != tc.want {
			t.Errorf("THREAD %s: %s, want %s", tc.alg, got, tc.want)
		}
	}
	// The summaries are cached.
	for _, m := range v.msgs {
		if srv.headers.summaries.get(m.rec.GetBlob()) == nil {
			t.Errorf("no cached summary for %x", m.rec.GetBlob())
		}
	}
}

func TestSummaryCacheBound(t *testing.T) {
	c := newSummaryCache(64 << 10)
	s := &sortthread.Summary{Subject: "HELLO", MessageID: "a@b"}
	for i := range 2000 {
		c.add(fmt.Appendf(nil, "k%d", i), s)
		if c.size > c.max {
			t.Fatalf("size %d above bound %d", c.size, c.max)
		}
	}
	if c.get([]byte("k0")) != nil || c.get([]byte("k1999")) != s {
		t.Fatal("least recently used not evicted first")
	}
	// Too large: not kept.
	big := &sortthread.Summary{References: make([]string, 4096)}
	c.add([]byte("big"), big)
	if c.get([]byte("big")) != nil {
		t.Fatal("oversized summary kept")
	}
}
