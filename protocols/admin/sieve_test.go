package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/managesieve"
	"github.com/surat-mail/surat/protocols/sievestore"
)

// newSieveServer is the API over a real store and sievestore, with a
// checker that refuses scripts containing "syntax error" as a compiler
// would (line 2).
func newSieveServer(t *testing.T) (*Client, *mailbox.Store) {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	n := &storeNode{fakeNode: newFake(), store: st}
	ss, err := sievestore.New(sievestore.Config{Reader: st, Proposer: n,
		Limits: managesieve.Limits{MaxScripts: 3, MaxScriptBytes: 1000}})
	if err != nil {
		t.Fatal(err)
	}
	s, err := New(Config{Directory: st, Digester: st, Cluster: n, Domains: st, Sieve: ss, Token: "tok",
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) },
		CheckSieve: func(src []byte) error {
			if strings.Contains(string(src), "syntax error") {
				return errors.New("line 2: syntax error")
			}
			return nil
		},
		HashPassword: cheapHash, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL, "tok", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddUser(ctx, "ann@example.org", "pw"); err != nil {
		t.Fatal(err)
	}
	return c, st
}

func TestSieveAPI(t *testing.T) {
	c, st := newSieveServer(t)
	ctx := context.Background()
	const ann = "ann@example.org"
	script := "require \"fileinto\";\r\nfileinto \"Lists\";\r\n"
	if err := c.PutSieveScript(ctx, "Ann@Example.org", "main", script, false); err != nil {
		t.Fatal(err)
	}
	if err := c.PutSieveScript(ctx, ann, "odd name/é", "keep;\r\n", true); err != nil {
		t.Fatal(err)
	}
	list, err := c.SieveScripts(ctx, ann)
	if err != nil || len(list) != 2 || list[0].Name != "main" || list[0].Active || list[1].Name != "odd name/é" || !list[1].Active {
		t.Fatalf("list %+v, %v", list, err)
	}
	got, err := c.SieveScript(ctx, ann, "main")
	if err != nil || got.Script != script || got.Active || got.Size != int64(len(script)) {
		t.Fatalf("get %+v, %v", got, err)
	}
	if err := c.ActivateSieveScript(ctx, ann, "main"); err != nil {
		t.Fatal(err)
	}
	if sc, err := st.ActiveSieveScript(ann); err != nil || sc.Name != "main" {
		t.Fatalf("active %v, %v", sc, err)
	}
	for _, tc := range []struct {
		what   string
		err    error
		status int
		text   string
	}{
		{"compile error", c.PutSieveScript(ctx, ann, "bad", "keep;\r\nsyntax error\r\n", false), http.StatusBadRequest, "line 2"},
		{"too large", c.PutSieveScript(ctx, ann, "big", strings.Repeat("#", 1001), false), http.StatusRequestEntityTooLarge, ""},
		{"bad name", c.PutSieveScript(ctx, ann, "tab\tname", "keep;", false), http.StatusBadRequest, "name"},
		{"no user", c.PutSieveScript(ctx, "bob@example.org", "x", "keep;", false), http.StatusNotFound, ""},
		{"delete active", c.DeleteSieveScript(ctx, ann, "main"), http.StatusConflict, "active"},
		{"delete missing", c.DeleteSieveScript(ctx, ann, "nope"), http.StatusNotFound, "nope"},
		{"activate missing", c.ActivateSieveScript(ctx, ann, "nope"), http.StatusNotFound, ""},
		{"bad owner", c.PutSieveScript(ctx, "not an address", "x", "keep;", false), http.StatusBadRequest, ""},
		{"no such domain", c.PutSieveScript(ctx, "@nowhere.test", "x", "keep;", false), http.StatusBadRequest, ""},
	} {
		if StatusOf(tc.err) != tc.status || !strings.Contains(tc.err.Error(), tc.text) {
			t.Errorf("%s: %v (status %d), want %d", tc.what, tc.err, StatusOf(tc.err), tc.status)
		}
	}
	if _, err := c.SieveScript(ctx, ann, "nope"); StatusOf(err) != http.StatusNotFound {
		t.Errorf("get missing: %v", err)
	}
	if err := c.PutSieveScript(ctx, ann, "third", "keep;", false); err != nil {
		t.Fatal(err)
	}
	if err := c.PutSieveScript(ctx, ann, "fourth", "keep;", false); StatusOf(err) != http.StatusConflict {
		t.Errorf("fourth script: %v", err)
	}
	if err := c.DeactivateSieve(ctx, ann); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteSieveScript(ctx, ann, "main"); err != nil {
		t.Fatal(err)
	}
	// The administrators' scripts, by owner in the path.
	if err := c.PutSieveScript(ctx, "@", "global", "keep;", true); err != nil {
		t.Fatal(err)
	}
	if err := c.PutSieveScript(ctx, "@Example.ORG", "domain", "keep;", true); err != nil {
		t.Fatal(err)
	}
	d, err := st.ScriptsForDelivery(ann)
	if err != nil || len(d.Before()) != 2 || d.Before()[1].Owner != "@example.org" {
		t.Fatalf("delivery scripts %+v, %v", d, err)
	}
}

func TestForwardAPI(t *testing.T) {
	c, st := newSieveServer(t)
	ctx := context.Background()
	const ann = "ann@example.org"
	f, err := c.SetForwarding(ctx, ann, []string{"X@Remote.test", "x@remote.test", "y@remote.test"}, true)
	if err != nil || len(f.To) != 2 || f.To[0] != "x@remote.test" || !f.Keep {
		t.Fatalf("set %+v, %v", f, err)
	}
	if got, ok, err := st.ForwardingOf(ann); err != nil || !ok || !got.Keep || len(got.Addresses) != 2 {
		t.Fatalf("stored %+v %v %v", got, ok, err)
	}
	if f, err := c.Forwarding(ctx, ann); err != nil || len(f.To) != 2 {
		t.Fatalf("get %+v, %v", f, err)
	}
	if _, err := c.SetForwarding(ctx, ann, []string{"not an address"}, false); StatusOf(err) != http.StatusBadRequest {
		t.Errorf("bad address: %v", err)
	}
	if _, err := c.SetForwarding(ctx, ann, []string{ann}, false); StatusOf(err) != http.StatusBadRequest {
		t.Errorf("to itself: %v", err)
	}
	if _, err := c.SetForwarding(ctx, "bob@example.org", []string{"x@remote.test"}, false); StatusOf(err) != http.StatusNotFound {
		t.Errorf("no user: %v", err)
	}
	if f, err := c.SetForwarding(ctx, ann, nil, true); err != nil || len(f.To) != 0 || f.Keep {
		t.Fatalf("off %+v, %v", f, err)
	}
	if _, ok, _ := st.ForwardingOf(ann); ok {
		t.Fatal("forwarding not cleared")
	}
}

func TestDomainCatchAllAPI(t *testing.T) {
	c, st := newSieveServer(t)
	ctx := context.Background()
	ca, plus := "Ann@example.org", true
	d, err := c.SetDomainSettings(ctx, "example.org", DomainSettingsRequest{CatchAll: &ca, PlusFolders: &plus})
	if err != nil || d.CatchAll != "ann@example.org" || !d.PlusFolders {
		t.Fatalf("set %+v, %v", d, err)
	}
	if rc, err := st.ResolveRecipient("whoever@example.org"); err != nil || rc.User != "ann@example.org" {
		t.Fatalf("resolve %+v, %v", rc, err)
	}
	bad := "bob@example.org"
	if _, err := c.SetDomainSettings(ctx, "example.org", DomainSettingsRequest{CatchAll: &bad}); StatusOf(err) != http.StatusBadRequest {
		t.Errorf("catch-all to no user: %v", err)
	}
	none := ""
	if d, err := c.SetDomainSettings(ctx, "example.org", DomainSettingsRequest{CatchAll: &none}); err != nil || d.CatchAll != "" || !d.PlusFolders {
		t.Fatalf("cleared %+v, %v", d, err)
	}
}

// TestDomainPublicFoldersAPI: public_folders is set, shown and cleared
// like catch_all; apply refuses an account that does not exist or is of
// another domain.
func TestDomainPublicFoldersAPI(t *testing.T) {
	c, st := newSieveServer(t)
	ctx := context.Background()
	pub := "Ann@example.org"
	d, err := c.SetDomainSettings(ctx, "example.org", DomainSettingsRequest{PublicFolders: &pub})
	if err != nil || d.PublicFolders != "ann@example.org" {
		t.Fatalf("set %+v, %v", d, err)
	}
	if a, err := st.PublicFolders("example.org"); err != nil || a != "ann@example.org" {
		t.Fatalf("PublicFolders = %q, %v", a, err)
	}
	if d, err := c.Domain(ctx, "example.org"); err != nil || d.PublicFolders != "ann@example.org" {
		t.Fatalf("show %+v, %v", d, err)
	}
	for _, bad := range []string{"bob@example.org", "ann@elsewhere.test", "not an address"} {
		if _, err := c.SetDomainSettings(ctx, "example.org", DomainSettingsRequest{PublicFolders: &bad}); StatusOf(err) != http.StatusBadRequest {
			t.Errorf("public folders %q: %v", bad, err)
		}
	}
	none := ""
	if d, err := c.SetDomainSettings(ctx, "example.org", DomainSettingsRequest{PublicFolders: &none}); err != nil || d.PublicFolders != "" {
		t.Fatalf("cleared %+v, %v", d, err)
	}
}
