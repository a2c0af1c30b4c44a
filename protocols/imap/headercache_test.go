package imap

import (
	"bytes"
	"fmt"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

func TestHeaderCache(t *testing.T) {
	c := newHeaderCache(64 << 10)
	hdr := []byte("Subject: hi\r\nFrom: <a@b.test>\r\n\r\n")
	if c.get([]byte("h1")) != nil {
		t.Fatal("hit on an empty cache")
	}
	e := c.add([]byte("h1"), hdr)
	if got := c.get([]byte("h1")); got != e || !bytes.Equal(got.header, hdr) {
		t.Fatal("miss after add")
	}
	if env := e.envelope(); env.Subject.Value != "hi" || e.envelope() != env {
		t.Fatalf("envelope %+v", env)
	}
	// A second add of the same hash returns the first entry.
	if c.add([]byte("h1"), bytes.Clone(hdr)) != e {
		t.Fatal("duplicate entry")
	}
	// Eviction keeps the bytes charged under the bound, least recent out.
	for i := range 1000 {
		c.add(fmt.Appendf(nil, "k%d", i), bytes.Repeat([]byte("x"), 1000))
		if _, size := c.stats(); size > c.max {
			t.Fatalf("size %d above bound %d", size, c.max)
		}
	}
	if c.get([]byte("h1")) != nil || c.get([]byte("k0")) != nil {
		t.Fatal("oldest entries not evicted")
	}
	if c.get([]byte("k999")) == nil {
		t.Fatal("newest entry evicted")
	}
	// Too large for the cache: returned, not kept.
	big := c.add([]byte("big"), make([]byte, 32<<10))
	if big == nil || c.get([]byte("big")) != nil {
		t.Fatal("oversized entry kept")
	}
}

func TestHeaderCacheConcurrent(t *testing.T) {
	c := newHeaderCache(32 << 10)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 2000 {
				k := fmt.Appendf(nil, "k%d", (i*7+g)%300)
				e := c.get(k)
				if e == nil {
					e = c.add(k, []byte(fmt.Sprintf("Subject: %s\r\n\r\n", k)))
				}
				if got := e.shared().Get("Subject"); got != string(k) {
					t.Errorf("parsed subject %q for %s", got, k)
					return
				}
				if env := e.envelope(); env.Subject.Value != string(k) {
					t.Errorf("subject %q for %s", env.Subject.Value, k)
					return
				}
			}
		}()
	}
	wg.Wait()
	if _, size := c.stats(); size > c.max {
		t.Fatalf("size %d above bound %d", size, c.max)
	}
}

func TestHeaderEnd(t *testing.T) {
	for in, want := range map[string]int{
		"\r\nbody": 2, "\nbody": 1, "A: b\r\n\r\nbody": 8, "A: b\n\nbody": 6,
		"A: b\r\n": -1, "A: b\r\n c\r\n\r\n": 12, "": -1,
	} {
		if got := headerEnd([]byte(in)); got != want {
			t.Errorf("headerEnd(%q) = %d, want %d", in, got, want)
		}
	}
}

// TestHeaderSectionsFromCache: ENVELOPE and header-only sections served
// from the header block are what go-imap extracts from the whole body,
// for odd bodies too (bare LF, no blank line, no header), first on a miss
// and then from the cache; and SEARCH HEADER over the same bodies.
func TestHeaderSectionsFromCache(t *testing.T) {
	c, addr := sharedServer(t)
	user := c.NewUser(t, "hdrcache", password)
	cl, _ := dial(t, addr, user)
	bodies := [][]byte{
		msg("plain", "hello"),
		[]byte("Subject: bare lf\nFrom: <x@y.test>\n\nbody\n"),
		[]byte("Subject: no body\r\nFrom: <x@y.test>\r\n"),
		[]byte("\r\nno header at all\r\n"),
		[]byte("Subject: folded\r\n  line\r\nX-A: 1\r\n\r\n\r\nbody\r\n"),
	}
	for _, b := range bodies {
		appendMsg(t, cl, "INBOX", b)
	}
	mustSelect(t, cl, "INBOX")
	sections := []*imap.FetchItemBodySection{
		{Specifier: imap.PartSpecifierHeader, Peek: true},
		{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"Subject", "X-A"}, Peek: true},
		{Specifier: imap.PartSpecifierHeader, HeaderFieldsNot: []string{"Subject"}, Peek: true},
		{Specifier: imap.PartSpecifierHeader, Peek: true, Partial: &imap.SectionPartial{Offset: 3, Size: 10}},
	}
	for round := range 2 {
		msgs := fetchAll(t, cl, imap.SeqSetNum(1, 2, 3, 4, 5), &imap.FetchOptions{Envelope: true, BodySection: sections})
		if len(msgs) != len(bodies) {
			t.Fatalf("round %d: %d messages", round, len(msgs))
		}
		for i, m := range msgs {
			for _, bs := range sections {
				want, _ := imapmsg.Parse(bodies[i]).BodySection(bs) // the whole-body path
				if got := m.FindBodySection(bs); !bytes.Equal(got, want) {
					t.Errorf("round %d message %d %v: got %q, want %q", round, i+1, bs, got, want)
				}
			}
			wantSubject := imapmsg.ParseEnvelope(bodies[i]).Subject.Value
			if m.Envelope == nil || m.Envelope.Subject != wantSubject {
				t.Errorf("round %d message %d: envelope %+v, want subject %q", round, i+1, m.Envelope, wantSubject)
			}
		}
	}
	for _, tc := range []struct {
		key, value string
		want       int
	}{{"Subject", "bare", 1}, {"X-A", "", 1}, {"Subject", "line", 1}, {"From", "y.test", 2}} {
		d, err := cl.Search(&imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: tc.key, Value: tc.value}}}, nil).Wait()
		if err != nil || len(d.AllSeqNums()) != tc.want {
			t.Errorf("SEARCH HEADER %s %q: %v, %v; want %d", tc.key, tc.value, d.AllSeqNums(), err, tc.want)
		}
	}
}
