package admin

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

func TestClient(t *testing.T) {
	f := newFake()
	ts := httptest.NewServer(newTestServer(t, f, "tok"))
	defer ts.Close()
	ctx := context.Background()

	c, err := NewClient(ts.URL+"/", "tok", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.AddUser(ctx, "alice@example.test", "pw"); err != nil {
		t.Fatalf("AddUser: %v", err)
	}
	err = c.AddUser(ctx, "alice@example.test", "pw")
	if StatusOf(err) != http.StatusConflict || err.Error() != "user alice@example.test already exists" {
		t.Errorf("duplicate AddUser: %v (status %d)", err, StatusOf(err))
	}
	if err := c.SetPassword(ctx, "alice@example.test", "pw2"); err != nil {
		t.Errorf("SetPassword: %v", err)
	}
	if err := c.SetQuota(ctx, "alice@example.test", 0, nil); err != nil {
		t.Errorf("SetQuota 0: %v", err)
	}
	if u, err := c.User(ctx, "alice@example.test"); err != nil || u.Address != "alice@example.test" {
		t.Errorf("User: %+v, %v", u, err)
	}
	users, err := c.Users(ctx)
	if err != nil || !slices.Equal(users, []string{"alice@example.test"}) {
		t.Errorf("Users: %v, %v", users, err)
	}
	st, err := c.ClusterStatus(ctx)
	if err != nil || st.Leader != "n1" || len(st.Members) != 2 {
		t.Errorf("ClusterStatus: %+v, %v", st, err)
	}
	if d, err := c.Digest(ctx); err != nil || len(d.Digest) != 64 {
		t.Errorf("Digest: %+v, %v", d, err)
	}
	if ok, err := c.Ready(ctx); !ok || err != nil {
		t.Errorf("Ready: %v, %v", ok, err)
	}
	f.ready = false
	if ok, err := c.Ready(ctx); ok || err != nil {
		t.Errorf("Ready when not: %v, %v", ok, err)
	}
	if err := c.DeleteUser(ctx, "alice@example.test"); err != nil {
		t.Errorf("DeleteUser: %v", err)
	}
	if err := c.DeleteUser(ctx, "alice@example.test"); StatusOf(err) != http.StatusNotFound {
		t.Errorf("second DeleteUser: %v", err)
	}

	bad, _ := NewClient(ts.URL, "wrong", 0)
	if _, err := bad.Users(ctx); StatusOf(err) != http.StatusUnauthorized {
		t.Errorf("wrong token: %v", err)
	}
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://"} {
		if _, err := NewClient(u, "", 0); err == nil {
			t.Errorf("NewClient(%q) succeeded", u)
		}
	}
	ts.Close()
	if _, err := c.Users(ctx); err == nil || StatusOf(err) != 0 {
		t.Errorf("closed server: %v", err)
	}
}
