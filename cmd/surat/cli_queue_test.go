package main

import (
	"context"
	"encoding/hex"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
)

// storeNode applies proposals straight to a real store: the admin API's
// queue endpoints run against the real apply and read code.
type storeNode struct {
	mu    sync.Mutex
	s     *mailbox.Store
	index uint64
}

func (n *storeNode) Propose(_ context.Context, p []byte) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.index++
	return n.s.Apply(n.index, [][]byte{p})[0], nil
}
func (n *storeNode) Ready() bool                           { return true }
func (n *storeNode) Status(context.Context) cluster.Status { return cluster.Status{} }

func TestCLIQueue(t *testing.T) {
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	node := &storeNode{s: st}
	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: node, Queue: st,
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	defer ts.Close()
	url := ts.URL

	// Two queued entries for one body.
	body := []byte("Subject: q\r\n\r\nhello\r\n")
	chunk := evlog.Chunks(body)[0]
	ids := [][]byte{make([]byte, 16), make([]byte, 16)}
	ids[0][15], ids[1][15] = 1, 2
	events := []*evlog.Event{{Kind: &evlog.Event_BlobStored{BlobStored: chunk}}}
	for _, id := range ids {
		events = append(events, &evlog.Event{Kind: &evlog.Event_Queued{Queued: &evlog.Queued{
			Id: id, Blob: chunk.Hash, Size: chunk.Size, MailFrom: "alice@example.test",
			Recipients: []*evlog.QueueRecipient{{Address: "dave@remote.test"}, {Address: "erin@remote.test"}},
			QueuedUnix: 1700000000, ExpiresUnix: 1700000000 + 86400,
		}}})
	}
	events = append(events, &evlog.Event{Kind: &evlog.Event_AttemptFailed{AttemptFailed: &evlog.AttemptFailed{
		Id: ids[0], Recipients: []string{"dave@remote.test", "erin@remote.test"}, Reason: "451 4.3.0 greylisted",
		AttemptedUnix: 1700000060, NextAttemptUnix: 1700000120}}},
		&evlog.Event{Kind: &evlog.Event_Sent{Sent: &evlog.Sent{Id: ids[1], Recipients: []string{"erin@remote.test"}, Reply: "250 ok"}}})
	if out, err := node.Propose(context.Background(), mustEncode(t, events)); err != nil {
		t.Fatal(err)
	} else if o, _ := evlog.DecodeOutcome(out); o.GetError() != 0 {
		t.Fatalf("setup refused: %v", o)
	}
	id0, id1 := hex.EncodeToString(ids[0]), hex.EncodeToString(ids[1])

	r := runCLI(t, nil, "", "queue", "list", "--server", url)
	if r.code != 0 {
		t.Fatalf("queue list: %+v", r)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") {
		t.Fatalf("queue list:\n%s", r.stdout)
	}
	if !strings.Contains(lines[1], id0) || !strings.Contains(lines[1], "dave@remote.test,erin@remote.test") ||
		!strings.Contains(lines[1], "451 4.3.0 greylisted") {
		t.Errorf("first row: %q", lines[1])
	}
	if !strings.Contains(lines[2], id1) || !strings.Contains(lines[2], "(+1 done)") {
		t.Errorf("second row: %q", lines[2])
	}

	if r := runCLI(t, nil, "", "queue", "retry", id0, "--server", url); r.code != 0 {
		t.Fatalf("retry: %+v", r)
	}
	q, err := st.QueueEntry(ids[0])
	if err != nil || q.GetNextAttemptUnix() < 1700000120+1000 {
		t.Fatalf("after retry: next attempt %d, %v (want now)", q.GetNextAttemptUnix(), err)
	}
	if r := runCLI(t, nil, "", "queue", "delete", id1, "--server", url); r.code != 0 {
		t.Fatalf("delete: %+v", r)
	}
	if _, err := st.QueueEntry(ids[1]); !errors.Is(err, mailbox.ErrNotFound) {
		t.Fatalf("deleted entry still there: %v", err)
	}
	if b, _ := st.BlobInfo(chunk.Hash); b.GetRefs() != 1 {
		t.Fatalf("refs after delete: %d", b.GetRefs())
	}

	unknown := strings.Repeat("ab", 16)
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"queue", "retry", unknown}, 1, "no such queue entry"},
		{[]string{"queue", "delete", unknown}, 1, "no such queue entry"},
		{[]string{"queue", "delete", id1}, 1, "no such queue entry"},
		{[]string{"queue", "retry", "xyz"}, 1, "bad queue id"},
		{[]string{"queue", "retry"}, 2, "missing ID"},
		{[]string{"queue", "frob"}, 2, "unknown subcommand"},
	} {
		r := runCLI(t, nil, "", append(tc.args, "--server", url)...)
		if r.code != tc.code {
			t.Fatalf("%v: exit %d, want %d: %+v", tc.args, r.code, tc.code, r)
		}
		if line := oneLineErr(t, r); !strings.Contains(line, tc.want) {
			t.Errorf("%v: %q lacks %q", tc.args, line, tc.want)
		}
	}
	// The HTTP status of an unknown id is 404.
	c, _ := admin.NewClient(url, "", 0)
	if err := c.RetryQueue(context.Background(), unknown); admin.StatusOf(err) != 404 {
		t.Fatalf("retry unknown: %v (status %d)", err, admin.StatusOf(err))
	}
	if err := c.DeleteQueue(context.Background(), unknown); admin.StatusOf(err) != 404 {
		t.Fatalf("delete unknown: %v (status %d)", err, admin.StatusOf(err))
	}
	entries, err := c.Queue(context.Background())
	if err != nil || len(entries) != 1 || entries[0].Recipients[0].State != "pending" || entries[0].Attempts != 1 {
		t.Fatalf("GET /v1/queue: %+v %v", entries, err)
	}
}

func mustEncode(t *testing.T, events []*evlog.Event) []byte {
	t.Helper()
	p, err := evlog.EncodeBatch(&evlog.Batch{Events: events})
	if err != nil {
		t.Fatal(err)
	}
	return p
}
