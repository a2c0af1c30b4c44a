package main

import (
	"context"
	"log/slog"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/admin"
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

// TestSieveScriptsReplicated is acceptance J6 in process: a script put
// through n1, activated through n2, is listed active by n3, and every
// node's digest agrees (the scripts and the seeded SRS key included).
func TestSieveScriptsReplicated(t *testing.T) {
	nodes := startServeCluster(t, 3)
	const ann = "ann@example.test"
	waitUntil(t, "ann created", func() bool {
		return runCLI(t, nil, "secret-pw\n", "user", "add", ann, "--password-stdin", "--server", nodes[0].url()).code == 0
	})
	script := "require [\"fileinto\", \"mailbox\"];\r\nfileinto :create \"Cli\";\r\n"
	if r := runCLI(t, nil, script, "sieve", "put", ann, "cli", "--server", nodes[0].url()); r.code != 0 {
		t.Fatalf("put through n1: %+v", r)
	}
	waitUntil(t, "activated through n2", func() bool {
		return runCLI(t, nil, "", "sieve", "activate", ann, "cli", "--server", nodes[1].url()).code == 0
	})
	waitUntil(t, "listed active by n3", func() bool {
		r := runCLI(t, nil, "", "sieve", "list", ann, "--server", nodes[2].url())
		return r.code == 0 && r.stdout == "cli\tactive\n"
	})
	if r := runCLI(t, nil, "", "sieve", "get", ann, "cli", "--server", nodes[2].url()); r.code != 0 || r.stdout != script {
		t.Fatalf("get through n3: %+v", r)
	}
	ctx := context.Background()
	waitUntil(t, "equal digests at equal indexes", func() bool {
		var first admin.DigestResponse
		for i, n := range nodes {
			c, err := admin.NewClient(n.url(), "", 10*time.Second)
			if err != nil {
				return false
			}
			d, err := c.Digest(ctx)
			if err != nil || i > 0 && d != first {
				return false
			}
			first = d
		}
		return true
	})
}
