package imap

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"

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
		user := c.newUser(b, "bench")
		pad := strings.Repeat("lorem ipsum dolor sit amet ", 160)[:4096-300]
		const batch = 100
		for i := 0; i < benchMessages; i += batch {
			var events []*evlog.Event
			for j := i; j < i+batch; j++ {
				body := msg(fmt.Sprintf("message %d", j), pad)
				chunks := evlog.Chunks(body)
				last := chunks[len(chunks)-1]
				events = append(events,
					&evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: last}},
					&evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
						Blob: last.Hash, Size: last.Size, InternalDateUnix: time.Now().Unix(),
						Recipients: []*evlog.Recipient{{Address: user}},
					}}})
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			_, err := propose.Submit(ctx, c.nodes[0].node, events...)
			cancel()
			if err != nil {
				b.Fatalf("deliver: %v", err)
			}
		}
		benchMailbox.user = user
	})
	if benchMailbox.user == "" {
		b.Fatal("bench mailbox not built")
	}
	return c, benchMailbox.user
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

func benchCommand(b *testing.B, setup func(b *testing.B, addr, user string) func()) {
	c, user := benchUser(b)
	b.Run("warm", func(b *testing.B) {
		_, addr, _ := c.serve(b, c.nodes[0], nil)
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
			_, addr, _ := c.serve(b, c.nodes[0], nil)
			run := setup(b, addr, user)
			b.StartTimer()
			run()
		}
	})
}
