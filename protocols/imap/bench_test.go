package imap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// benchMailbox is one user with 10,000 distinct 4 KiB messages in INBOX on
// the shared cluster, built once per test binary run.
var benchMailbox struct {
	once sync.Once
	user string
}

const benchMessages = 10000

func benchUser(b *testing.B) (*testCluster, string) {
	c := sharedCluster(b)
	benchMailbox.once.Do(func() {
		user := c.NewUser(b, "bench", password)
		pad := strings.Repeat("lorem ipsum dolor sit amet ", 160)[:4096-300]
		deliverBench(b, c, user, func(j int) ([]byte, int64) {
			return msg(fmt.Sprintf("message %d", j), pad), time.Now().Unix()
		})
		benchMailbox.user = user
	})
	if benchMailbox.user == "" {
		b.Fatal("bench mailbox not built")
	}
	return c, benchMailbox.user
}

// deliverBench delivers benchMessages messages to user's INBOX, in
// batches of 100 through the cluster; message gives the j-th message and
// its internal date.
func deliverBench(b *testing.B, c *testCluster, user string, message func(j int) (body []byte, date int64)) {
	const batch = 100
	for i := 0; i < benchMessages; i += batch {
		var events []*evlog.Event
		for j := i; j < i+batch; j++ {
			body, date := message(j)
			chunks := evlog.Chunks(body)
			last := chunks[len(chunks)-1]
			events = append(events,
				&evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: last}},
				&evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
					Blob: last.Hash, Size: last.Size, InternalDateUnix: date,
					Recipients: []*evlog.Recipient{{Address: user}},
				}}})
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := propose.Submit(ctx, c.Nodes[0].Node, events...)
		cancel()
		if err != nil {
			b.Fatalf("deliver: %v", err)
		}
	}
}

func BenchmarkFetchMetadata(b *testing.B) {
	opts := &imap.FetchOptions{UID: true, Flags: true, RFC822Size: true, Envelope: true}
	benchCommand(b, func(b *testing.B, addr, user string) func() {
		cl, _ := dial(b, addr, user)
		mustSelect(b, cl, "INBOX")
		return func() {
			msgs, err := cl.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, opts).Collect()
			if err != nil || len(msgs) != benchMessages || msgs[0].Envelope == nil {
				b.Fatalf("fetch: %d messages, %v", len(msgs), err)
			}
		}
	})
}

func BenchmarkSearchHeader(b *testing.B) {
	crit := &imap.SearchCriteria{Header: []imap.SearchCriteriaHeaderField{{Key: "Subject", Value: "message 99"}}}
	benchCommand(b, func(b *testing.B, addr, user string) func() {
		cl, _ := dial(b, addr, user)
		mustSelect(b, cl, "INBOX")
		return func() {
			d, err := cl.UIDSearch(crit, nil).Wait()
			if err != nil || len(d.AllUIDs()) != 111 {
				b.Fatalf("search: %d, %v", len(d.AllUIDs()), err)
			}
		}
	})
}

// BenchmarkSearchBody is UID SEARCH BODY over the whole mailbox, for a
// word in no message and for one in every message (the benchmark's
// messages share their filler), which takes the full MIME parse of each.
func BenchmarkSearchBody(b *testing.B) {
	for _, bc := range []struct {
		name, word string
		hits       int
	}{{"miss", "zeppelin", 0}, {"hit", "ipsum", benchMessages}} {
		b.Run(bc.name, func(b *testing.B) {
			crit := &imap.SearchCriteria{Body: []string{bc.word}}
			benchCommand(b, func(b *testing.B, addr, user string) func() {
				cl, _ := dial(b, addr, user)
				mustSelect(b, cl, "INBOX")
				return func() {
					d, err := cl.UIDSearch(crit, nil).Wait()
					if err != nil || len(d.AllUIDs()) != bc.hits {
						b.Fatalf("search: %d, %v", len(d.AllUIDs()), err)
					}
				}
			})
		})
	}
}

func benchCommand(b *testing.B, setup func(b *testing.B, addr, user string) func()) {
	c, user := benchUser(b)
	b.Run("warm", func(b *testing.B) {
		_, addr, _ := c.serve(b, c.Nodes[0], nil)
		run := setup(b, addr, user)
		run()
		b.ResetTimer()
		for b.Loop() {
			run()
		}
	})
	b.Run("cold", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			_, addr, _ := c.serve(b, c.Nodes[0], nil)
			run := setup(b, addr, user)
			b.StartTimer()
			run()
		}
	})
}

// BenchmarkSelect is SELECT INBOX on a new connection, as a client opening
// the mailbox does: "warm" reuses one server (the node has read the mailbox
// before), "cold" starts a new server each time.
func BenchmarkSelect(b *testing.B) {
	benchCommand(b, func(b *testing.B, addr, user string) func() {
		return func() {
			b.StopTimer()
			cl, _ := dial(b, addr, user)
			b.StartTimer()
			if d := mustSelect(b, cl, "INBOX"); d.NumMessages != benchMessages {
				b.Fatalf("select: %d messages", d.NumMessages)
			}
			b.StopTimer()
			cl.Close()
			b.StartTimer()
		}
	})
}

// BenchmarkFetchBodies is UID FETCH 1:* BODY.PEEK[] over the whole
// mailbox, reading every literal.
func BenchmarkFetchBodies(b *testing.B) {
	opts := &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{{Peek: true}}}
	benchCommand(b, func(b *testing.B, addr, user string) func() {
		cl, _ := dial(b, addr, user)
		mustSelect(b, cl, "INBOX")
		buf := make([]byte, 32<<10)
		return func() {
			cmd := cl.Fetch(imap.UIDSet{imap.UIDRange{Start: 1, Stop: 0}}, opts)
			n := 0
			for m := cmd.Next(); m != nil; m = cmd.Next() {
				for item := m.Next(); item != nil; item = m.Next() {
					if s, ok := item.(imapclient.FetchItemDataBodySection); ok && s.Literal != nil {
						n++
						for {
							if _, err := s.Literal.Read(buf); err != nil {
								break
							}
						}
					}
				}
			}
			if err := cmd.Close(); err != nil || n != benchMessages {
				b.Fatalf("fetch bodies: %d, %v", n, err)
			}
		}
	})
}
