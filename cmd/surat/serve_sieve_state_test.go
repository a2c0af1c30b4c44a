package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
)

// leaderStore is a mailboxtest store that leads when told.
type leaderStore struct {
	*mailboxtest.Store
	leads bool
}

func (l *leaderStore) IsLeader() bool { return l.leads }

func TestSRSSeededOnceByTheLeader(t *testing.T) {
	st := &leaderStore{Store: mailboxtest.Open(t)}
	j := newSieveLeaderJobs(st, st, slog.New(slog.DiscardHandler))
	ctx := context.Background()
	if done, err := j.seedOnce(ctx); done || err != nil {
		t.Fatalf("follower seeded: %v, %v", done, err)
	}
	st.leads = true
	if done, err := j.seedOnce(ctx); !done || err != nil {
		t.Fatalf("leader did not seed: %v, %v", done, err)
	}
	if done, err := j.seedOnce(ctx); !done || err != nil {
		t.Fatalf("second run: %v, %v", done, err)
	}
	keys, err := st.SRSKeys()
	if err != nil || len(keys) != 1 || len(keys[0]) != srsKeyLen {
		t.Fatalf("keys: %d, %v", len(keys), err)
	}
	// seedSRS returns once a key is known.
	finished := make(chan struct{})
	go func() { j.seedSRS(ctx); close(finished) }()
	select {
	case <-finished:
	case <-time.After(10 * time.Second):
		t.Fatal("seedSRS did not return with a key known")
	}
}

func TestSievePrunerProposesWhenExpired(t *testing.T) {
	st := &leaderStore{Store: mailboxtest.Open(t), leads: true}
	now := time.Unix(1_800_000_000, 0)
	j := newSieveLeaderJobs(st, st, slog.New(slog.DiscardHandler))
	j.now = func() time.Time { return now }
	ctx := context.Background()
	if did, err := j.prune(ctx); did || err != nil {
		t.Fatalf("nothing to prune: %v, %v", did, err)
	}
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.org"}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: "ann@example.org"}}},
		&evlog.Event{Kind: &evlog.Event_DuplicateRecorded{DuplicateRecorded: &evlog.DuplicateRecorded{User: "ann@example.org",
			Ids: [][]byte{{1}}, SeenUnix: now.Unix() - 100, ExpiresUnix: now.Unix() + 50}}})
	if did, err := j.prune(ctx); did || err != nil {
		t.Fatalf("nothing expired yet: %v, %v", did, err)
	}
	now = now.Add(time.Minute)
	st.leads = false
	if did, _ := j.prune(ctx); did {
		t.Fatal("a follower pruned")
	}
	st.leads = true
	if did, err := j.prune(ctx); !did || err != nil {
		t.Fatalf("expired record not pruned: %v, %v", did, err)
	}
	if _, ok, err := st.NextSieveExpiry(); ok || err != nil {
		t.Fatalf("record left: %v, %v", ok, err)
	}
}
