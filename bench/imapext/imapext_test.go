package imapext

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestCorpus(t *testing.T) {
	a, b := Corpus(300), Corpus(300)
	replies := 0
	for i := range a {
		if !bytes.Equal(a[i], b[i]) {
			t.Fatalf("message %d differs between two calls", i)
		}
		if bytes.Contains(a[i], []byte("\r\nIn-Reply-To: <")) {
			replies++
			if !bytes.Contains(a[i], []byte("\r\nSubject: Re: Topic ")) {
				t.Fatalf("reply %d: %s", i, a[i])
			}
		}
		if bytes.Contains(bytes.ReplaceAll(a[i], []byte("\r\n"), nil), []byte("\n")) {
			t.Fatalf("message %d has a bare LF", i)
		}
	}
	if replies < 120 || replies > 240 {
		t.Fatalf("%d replies of 300", replies)
	}
}

func TestCounts(t *testing.T) {
	if n := countUIDs("3:5,9,12:10"); n != 7 {
		t.Fatalf("countUIDs %d", n)
	}
	if n := countThreads("* THREAD (1 2)(3 (4)(5))(6)"); n != 3 {
		t.Fatalf("countThreads %d", n)
	}
	if n, ok := literalSize("* 1 FETCH (BODY[] {12}"); !ok || n != 12 {
		t.Fatalf("literalSize %d %v", n, ok)
	}
	if _, ok := literalSize("* OK {x}"); ok {
		t.Fatal("literalSize of {x}")
	}
	s := selectState([]string{"* 42 EXISTS", "* OK [UIDVALIDITY 7] x", "* OK [UIDNEXT 50] x", "* OK [HIGHESTMODSEQ 99] x"})
	if s.exists != 42 || s.uidValidity != "7" || s.maxUID != 49 || s.highestModseq != "99" {
		t.Fatalf("selectState %+v", s)
	}
}

func TestWriteMarkdown(t *testing.T) {
	now := time.Now()
	recs := []Record{
		{Server: "surat", Case: "qresync", Started: now},
		{Server: "dovecot", Case: "qresync", Supported: true, Round: 0, Seconds: 9, BytesIn: 1},
		{Server: "dovecot", Case: "qresync", Supported: true, Round: 1, Seconds: 0.02, BytesIn: 5000, BytesOut: 60, Items: 100, Vanished: 10},
		{Server: "surat", Case: "sort-date", Supported: true, Round: 1, Seconds: 0.01, Messages: 500},
		{Server: "dovecot", Case: "sort-date", Supported: true, Round: 1, Seconds: 0.02, Messages: 500},
	}
	var b bytes.Buffer
	WriteMarkdown(&b, recs, 500, "Machine: test.", "2.3")
	out := b.String()
	for _, want := range []string{"| QRESYNC resync (ENABLE + SELECT … QRESYNC) | not supported | 0.0200 |", "| UID SORT (DATE) UTF-8 ALL | 0.0100 | 0.0200 | 2.00× |", "Dovecot: 100 FETCH, 10 VANISHED"} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

// FuzzResponseParsers: the response readers never panic on any line.
func FuzzResponseParsers(f *testing.F) {
	f.Add("* THREAD (1 2)(3 (4)(5))", "* OK [HIGHESTMODSEQ 99] x", "* VANISHED (EARLIER) 3:5,9")
	f.Add("* 1 FETCH (BODY[] {99999999999}", "* OK [UIDNEXT 0] x", "1:")
	// Invalid UTF-8 grows under strings.ToUpper; an index into the
	// upper-cased line once sliced past the end of the original.
	f.Add("\xff\xff* THREAD", "\xff\xff\xff[UIDNEXT", "\xff[HIGHESTMODSEQ ")
	f.Add("x", "y", "\xff\xff\xff\xff\nSubject:")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		countThreads(a)
		ParseThreads(a)
		fetchUID(b)
		headerValue(c, "Subject")
		literalSize(a)
		countUIDs(c)
		selectState([]string{a, b, c})
		code([]string{b}, "HIGHESTMODSEQ")
	})
}
