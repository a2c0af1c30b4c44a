package bans_test

import (
	"context"
	"net/netip"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/bans"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/protocoltest"
	"github.com/surat-mail/surat/protocols/ratelimit"
)

// TestAutoBanAcrossCluster: lockouts of one client on node A's login path
// make A propose a ban through Raft, which node B then enforces at
// connect (RefuseAtConnect, what every protocol asks before its greeting;
// the listener gate reads the same replicated list). The client is named
// by address rather than dialled: every socket a test can open is on
// loopback, which is never banned, so the last step checks that too.
func TestAutoBanAcrossCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	c := protocoltest.Start(t, protocoltest.Options{Size: 3})
	nodeA, nodeB := c.Nodes[0], c.Nodes[1]
	user := c.NewUser(t, "autoban", "right password")

	banner, err := bans.NewAutoBanner(bans.AutoConfig{Count: 3, Window: time.Minute, Duration: time.Hour,
		Proposer: nodeA.Node, Bans: nodeA.Store, Logger: protocoltest.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	defer banner.Close()
	// Locked after one failure for a minute: each later attempt is a
	// lockout.
	strict := ratelimit.Policy{Free: 1, Base: time.Minute, Max: time.Hour}
	loginsA, err := login.New(login.Config{Directory: nodeA.Store, Bans: nodeA.Store, OnLockout: banner.Locked,
		Limiter: ratelimit.New(ratelimit.Config{Pair: strict, Client: strict, Account: strict})})
	if err != nil {
		t.Fatal(err)
	}
	loginsB, err := login.New(login.Config{Directory: nodeB.Store, Bans: nodeB.Store})
	if err != nil {
		t.Fatal(err)
	}

	guess := func(remote string, n int) {
		for range n {
			loginsA.NewConn(remote, nil).Login(context.Background(), user, "guess")
		}
	}
	const guesser = "198.51.100.20"
	guess(guesser, 3) // one failure, two lockouts
	time.Sleep(200 * time.Millisecond)
	if _, refuse := loginsB.RefuseAtConnect(guesser); refuse {
		t.Fatal("banned after two lockouts; the policy says three")
	}
	guess(guesser, 1)
	protocoltest.WaitFor(t, 10*time.Second, "node B to refuse the guesser at connect", func() bool {
		_, refuse := loginsB.RefuseAtConnect(guesser)
		return refuse
	})
	if !nodeB.Store.Banned(netip.MustParseAddr(guesser), time.Now()) {
		t.Fatal("node B refuses the guesser but its ban list does not hold it")
	}
	if _, refuse := loginsB.RefuseAtConnect("198.51.100.21"); refuse {
		t.Fatal("a neighbouring address was refused")
	}

	// Loopback, where a local webmail or proxy sits: never banned, however
	// many lockouts.
	guess("127.0.0.1", 20)
	time.Sleep(500 * time.Millisecond)
	for _, n := range []*protocoltest.Node{nodeA, nodeB} {
		if n.Store.Banned(netip.MustParseAddr("127.0.0.1"), time.Now()) {
			t.Fatalf("%s banned loopback", n.ID)
		}
	}
}
