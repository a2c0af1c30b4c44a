package imap

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/protocols/imap/sortthread"
)

// threadMailbox is one user with benchMessages messages in INBOX that
// form threads: each names up to a few earlier messages of its thread in
// References and In-Reply-To, subjects repeat with "Re:", dates are
// spread over a year out of mailbox order, senders vary. Built once per
// test binary run.
var threadMailbox struct {
	once sync.Once
	user string
}

// threadMessage is message j of the thread mailbox.
func threadMessage(j int) []byte {
	thread := j / 25
	var b strings.Builder
	date := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration((j*7919)%31536000) * time.Second)
	fmt.Fprintf(&b, "From: User %d <user%d@remote.test>\r\nTo: <someone@example.test>\r\n", j%97, j%97)
	fmt.Fprintf(&b, "Date: %s\r\nMessage-ID: <m%d@remote.test>\r\n", date.Format(time.RFC1123Z), j)
	if j%25 == 0 {
		fmt.Fprintf(&b, "Subject: topic %d\r\n", thread)
	} else {
		parent := j - 1 - j%3
		if parent < thread*25 {
			parent = thread * 25
		}
		fmt.Fprintf(&b, "Subject: Re: topic %d\r\nIn-Reply-To: <m%d@remote.test>\r\nReferences:", thread, parent)
		for k := thread * 25; k <= parent; k += 4 {
			fmt.Fprintf(&b, " <m%d@remote.test>", k)
		}
		fmt.Fprintf(&b, " <m%d@remote.test>\r\n", parent)
	}
	b.WriteString("Content-Type: text/plain\r\n\r\n")
	b.WriteString(strings.Repeat("lorem ipsum dolor sit amet ", 40))
	b.WriteString("\r\n")
	return []byte(b.String())
}

func threadUser(b *testing.B) (*testCluster, string) {
	c := sharedCluster(b)
	threadMailbox.once.Do(func() {
		user := c.NewUser(b, "threads", password)
		deliverBench(b, c, user, func(j int) ([]byte, int64) {
			return threadMessage(j), time.Now().Unix() + int64(j%1000)
		})
		threadMailbox.user = user
	})
	if threadMailbox.user == "" {
		b.Fatal("thread mailbox not built")
	}
	return c, threadMailbox.user
}

// benchThreadCommand is benchCommand over the thread mailbox: "warm"
// repeats the command on one server (header summaries cached), "cold"
// starts a new server each time (every header read from the store).
func benchThreadCommand(b *testing.B, run func(b *testing.B, cl *imapclient.Client)) {
	c, user := threadUser(b)
	b.Run("warm", func(b *testing.B) {
		_, addr, _ := c.serve(b, c.Nodes[0], nil)
		cl, _ := dial(b, addr, user)
		mustSelect(b, cl, "INBOX")
		run(b, cl)
		b.ResetTimer()
		for b.Loop() {
			run(b, cl)
		}
	})
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			_, addr, _ := c.serve(b, c.Nodes[0], nil)
			cl, _ := dial(b, addr, user)
			mustSelect(b, cl, "INBOX")
			b.StartTimer()
			run(b, cl)
		}
	})
}

// BenchmarkSortDate is UID SORT (DATE) UTF-8 ALL over 10,000 messages.
func BenchmarkSortDate(b *testing.B) {
	benchThreadCommand(b, func(b *testing.B, cl *imapclient.Client) {
		uids, err := cl.UIDSort(&imapclient.SortOptions{SearchCriteria: &imap.SearchCriteria{},
			SortCriteria: []imapclient.SortCriterion{{Key: imapclient.SortKeyDate}}}).Wait()
		if err != nil || len(uids) != benchMessages {
			b.Fatalf("sort: %d, %v", len(uids), err)
		}
	})
}

// BenchmarkThreadReferences is UID THREAD REFERENCES UTF-8 ALL over
// 10,000 messages in threads of 25.
func BenchmarkThreadReferences(b *testing.B) {
	benchThreadCommand(b, func(b *testing.B, cl *imapclient.Client) {
		threads, err := cl.UIDThread(&imapclient.ThreadOptions{Algorithm: imap.ThreadReferences,
			SearchCriteria: &imap.SearchCriteria{}}).Wait()
		if err != nil || len(threads) != benchMessages/25 {
			b.Fatalf("thread: %d threads, %v", len(threads), err)
		}
	})
}

// BenchmarkSortThreadCompute is sortthread's part alone (keys and the
// algorithms over summaries already made), on the same 10,000 messages.
func BenchmarkSortThreadCompute(b *testing.B) {
	msgs := make([]sortthread.Message, benchMessages)
	for j := range msgs {
		body := threadMessage(j)
		msgs[j] = sortthread.Message{ID: uint32(j + 1), Arrival: int64(j), Size: uint64(len(body)),
			Summary: sortthread.Summarize(body)}
	}
	b.Run("summarize", func(b *testing.B) {
		body := threadMessage(benchMessages - 1)
		for b.Loop() {
			sortthread.Summarize(body)
		}
	})
	b.Run("sort-date", func(b *testing.B) {
		for b.Loop() {
			sortthread.Sort(msgs, []sortthread.Criterion{{Key: sortthread.Date}})
		}
	})
	b.Run("sort-subject", func(b *testing.B) {
		for b.Loop() {
			sortthread.Sort(msgs, []sortthread.Criterion{{Key: sortthread.Subject}, {Key: sortthread.Date, Reverse: true}})
		}
	})
	b.Run("thread-references", func(b *testing.B) {
		for b.Loop() {
			if got := len(sortthread.Threads(msgs, sortthread.References)); got != benchMessages/25 {
				b.Fatalf("%d threads", got)
			}
		}
	})
	b.Run("thread-orderedsubject", func(b *testing.B) {
		for b.Loop() {
			sortthread.Threads(msgs, sortthread.OrderedSubject)
		}
	})
}
