package managesieve

import (
	"testing"

	evlog "github.com/surat-mail/surat/log"
	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
	"github.com/surat-mail/surat/protocols/protocoltest"
)

// A password change committed through the cluster closes the user's
// ManageSieve sessions (login.WatchRevocations over the store's feed);
// another user's session goes on, and the new password logs in.
func TestRevocation(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := protocoltest.Start(t, protocoltest.Options{Size: 1, Domain: "example.test", Hostname: "sieve.example.test"})
	n := c.Nodes[0]
	user := c.NewUser(t, "revoke", testPassword)
	bystander := c.NewUser(t, "bystander", testPassword)
	ts := startServer(t, func(cfg *Config) {
		cfg.Login = logintest.New(t, n.Store, authn.Config{})
		cfg.Feed = n.Store
	})
	idle := login(t, ts.addr, user)
	by := login(t, ts.addr, bystander)
	n.Submit(t, &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
		Address: user, PasswordHash: protocoltest.Hash(t, "new password")}}})
	if r := idle.read(); r.status != "EOF" {
		t.Fatalf("session after the password change: %v", r)
	}
	if r := by.cmd("NOOP"); r.status != "OK" {
		t.Fatalf("bystander: %v", r)
	}
	fresh, _ := dial(t, ts.addr)
	fresh.starttls()
	if r := fresh.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(user, testPassword))); r.status != "NO" {
		t.Fatalf("old password: %v", r)
	}
	if r := fresh.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(user, "new password"))); r.status != "OK" {
		t.Fatalf("new password: %v", r)
	}
}
