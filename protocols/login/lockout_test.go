package login

import (
	"context"
	"net/netip"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/ratelimit"
)

// TestOnLockout: every attempt refused as locked out, at login or at
// connect, is reported with its client; failures that are not lockouts
// are not.
func TestOnLockout(t *testing.T) {
	var mu sync.Mutex
	var seen []netip.Addr
	lim := ratelimit.New(ratelimit.Config{Pair: ratelimit.Policy{Free: 2, Base: time.Minute, Max: time.Hour},
		Client: ratelimit.Policy{Free: 3, Base: time.Minute, Max: time.Hour}})
	a := newAuth(t, Config{Directory: newStore(t), Limiter: lim, OnLockout: func(ip netip.Addr) {
		mu.Lock()
		seen = append(seen, ip)
		mu.Unlock()
	}})
	ip := netip.MustParseAddr("192.0.2.5")
	for range 2 {
		a.NewConn(ip.String(), nil).Login(context.Background(), alice, "guess")
	}
	if len(seen) != 0 {
		t.Fatalf("wrong passwords reported as lockouts: %v", seen)
	}
	if o := a.NewConn(ip.String(), nil).Login(context.Background(), alice, alicePass); o.Result != Locked {
		t.Fatalf("third attempt: %v, want locked", o.Result)
	}
	for range 2 {
		lim.ClientFailed(ip)
	}
	if _, refuse := a.RefuseAtConnect(ip.String()); !refuse {
		t.Fatal("locked client not refused at connect")
	}
	if _, refuse := a.RefuseAtConnect("192.0.2.6"); refuse {
		t.Fatal("other client refused")
	}
	if len(seen) != 2 || seen[0] != ip || seen[1] != ip {
		t.Fatalf("lockouts reported: %v, want %v twice", seen, ip)
	}
}
