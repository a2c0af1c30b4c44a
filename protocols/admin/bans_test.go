package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/mailbox"
)

// storeNode proposes by applying straight to a real store, one entry per
// proposal: the ban endpoints then see apply's real outcomes.
type storeNode struct {
	*fakeNode
	store *mailbox.Store
	mu    sync.Mutex
	index uint64
}

func (n *storeNode) Propose(_ context.Context, p []byte) ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.index++
	return n.store.Apply(n.index, [][]byte{p})[0], nil
}

func newBanServer(t *testing.T, now *time.Time) (*Client, http.Handler, *mailbox.Store) {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := &storeNode{fakeNode: newFake(), store: st}
	reg := prometheus.NewRegistry()
	s, err := New(Config{Directory: n, Digester: n, Cluster: n, Bans: st, Token: "tok", Gatherer: reg,
		Now: func() time.Time { return *now }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL, "tok", 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c, s, st
}

func TestBansAPI(t *testing.T) {
	now := time.Unix(1_800_000_000, 0).UTC()
	c, h, st := newBanServer(t, &now)
	ctx := context.Background()

	b, err := c.AddBan(ctx, "192.0.2.7", time.Hour, "password\nguessing")
	if err != nil {
		t.Fatal(err)
	}
	if b.Prefix != "192.0.2.7/32" || b.Reason != "password guessing" || b.Source != "admin" ||
		b.Expires == nil || !b.Expires.Equal(now.Add(time.Hour)) || !b.Created.Equal(now) {
		t.Fatalf("AddBan = %+v", b)
	}
	if _, err := c.AddBan(ctx, "2001:db8:1:2::99", 0, ""); err != nil { // for good, on its /64
		t.Fatal(err)
	}
	// Absent seconds: the default duration.
	rec := do(t, h, call{method: "POST", path: "/v1/bans", token: "tok", body: `{"prefix":"198.51.100.0/24"}`})
	if rec.Code != http.StatusCreated {
		t.Fatalf("POST /v1/bans without seconds: %d %s", rec.Code, rec.Body)
	}
	if !st.Banned(netip.MustParseAddr("198.51.100.9"), now.Add(DefaultBanDuration-time.Second)) ||
		st.Banned(netip.MustParseAddr("198.51.100.9"), now.Add(DefaultBanDuration)) {
		t.Fatal("default ban duration not applied")
	}
	if !st.Banned(netip.MustParseAddr("2001:db8:1:2:ffff::1"), now.AddDate(50, 0, 0)) {
		t.Fatal("IPv6 address not banned on its /64 for good")
	}

	list, err := c.Bans(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range list {
		got = append(got, b.Prefix)
	}
	want := []string{"192.0.2.7/32", "198.51.100.0/24", "2001:db8:1:2::/64"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] {
		t.Fatalf("Bans = %v, want %v", got, want)
	}
	if list[2].Expires != nil {
		t.Fatalf("permanent ban lists an expiry: %+v", list[2])
	}
	// Expired bans leave the list at once.
	now = now.Add(2 * time.Hour)
	if list, _ = c.Bans(ctx); len(list) != 2 {
		t.Fatalf("after the first ban expired: %+v", list)
	}

	if err := c.DeleteBan(ctx, "198.51.100.0/24"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteBan(ctx, "198.51.100.0/24"); StatusOf(err) != http.StatusNotFound {
		t.Fatalf("second DeleteBan: %v", err)
	}
	if err := c.DeleteBan(ctx, "2001:db8:1:2::1"); err != nil { // the address names its /64
		t.Fatal(err)
	}
	if list, _ = c.Bans(ctx); len(list) != 0 {
		t.Fatalf("after deleting: %+v", list)
	}

	for _, bad := range []struct{ method, path, body string }{
		{"POST", "/v1/bans", `{"prefix":"example.org"}`},
		{"POST", "/v1/bans", `{"prefix":"192.0.2.1/40"}`},
		{"POST", "/v1/bans", `{"prefix":"192.0.2.1","seconds":-5}`},
		{"POST", "/v1/bans", `{"prefix":"192.0.2.1","unknown":1}`},
		{"DELETE", "/v1/bans/nonsense", ``},
	} {
		rec := do(t, h, call{method: bad.method, path: bad.path, token: "tok", body: bad.body})
		if rec.Code != http.StatusBadRequest {
			t.Errorf("%s %s %s: %d, want 400", bad.method, bad.path, bad.body, rec.Code)
		}
		errorOf(t, rec)
	}
	if rec := do(t, h, call{method: "GET", path: "/v1/bans"}); rec.Code != http.StatusUnauthorized {
		t.Errorf("GET /v1/bans without the token: %d", rec.Code)
	}
}

func TestBansAPINoQuorum(t *testing.T) {
	f := newFake()
	f.proposeErr = errors.New("raft: no quorum")
	s := newTestServer(t, f, "")
	rec := do(t, s, call{method: "POST", path: "/v1/bans", body: `{"prefix":"192.0.2.1"}`})
	if rec.Code != http.StatusServiceUnavailable {
		t.Fatalf("POST /v1/bans without a cluster: %d", rec.Code)
	}
	if rec := do(t, s, call{method: "GET", path: "/v1/bans"}); rec.Code != http.StatusOK || rec.Body.String() != "{\"bans\":[]}\n" {
		t.Fatalf("GET /v1/bans without a ban list: %d %q", rec.Code, rec.Body)
	}
}
