package smtp

import (
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/srs"
)

// TestSRSRoundTrip with protocols/srs: a redirected message leaves with
// an SRS0 sender at our domain; the bounce the destination sends to it is
// accepted on the MX port and queued back to the original sender; the
// same address with its hash changed is refused, and so is it once
// expired (srs.MaxAge days later).
func TestSRSRoundTrip(t *testing.T) {
	c := sharedCluster(t)
	user := uniqueAddress("roundtrip")
	c.createUser(t, user, "pw")
	var now atomic.Int64 // the sessions read it
	now.Store(time.Date(2026, 12, 2, 12, 0, 0, 0, time.UTC).Unix())
	clock := func() time.Time { return time.Unix(now.Load(), 0) }
	rw, err := srs.New([][]byte{[]byte("a key of the cluster")}, domain, clock)
	if err != nil {
		t.Fatal(err)
	}
	check := &recordingCheck{outcome: pipeline.Outcome{Recipients: map[string]pipeline.RecipientOutcome{
		user: {Discard: true, Redirects: []string{"away@remote.test"}},
	}}}
	relay := &captureRelay{}
	tweak := withCheck(check, func(cfg *Config) { cfg.Relay, cfg.SRS = relay, rw })
	if code, text := sendVia(t, c, tweak, []string{user}, message("round trip")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	fwd := relay.got[len(relay.got)-1]
	relay.mu.Unlock()
	if !strings.HasPrefix(fwd.From, "SRS0=") || !strings.HasSuffix(fwd.From, "@"+domain) {
		t.Fatalf("forwarded with sender %q", fwd.From)
	}

	// The destination bounces it.
	_, addr := c.serve(t, c.Nodes[0], MX, func(cfg *Config) { cfg.Relay, cfg.SRS = relay, rw })
	cl := dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<>")
	cl.must(250, "RCPT TO:<%s>", fwd.From)
	local := fwd.From[:strings.IndexByte(fwd.From, '@')]
	forged := local[:5] + "AAAA" + local[9:] + "@" + domain
	if forged == fwd.From {
		forged = local[:5] + "BBBB" + local[9:] + "@" + domain
	}
	cl.must(550, "RCPT TO:<%s>", forged)
	if code, text := cl.data([]byte("Subject: Undelivered Mail Returned to Sender\r\n\r\nbounce\r\n")); code != 250 {
		t.Fatalf("DATA: %d %s", code, text)
	}
	relay.mu.Lock()
	back := relay.got[len(relay.got)-1]
	relay.mu.Unlock()
	if back.From != "" || !slices.Equal(back.Recipients, []string{sender}) {
		t.Fatalf("bounce queued %+v, want to %s from <>", back, sender)
	}

	now.Add((srs.MaxAge + 1) * 24 * 3600)
	cl = dial(t, addr)
	cl.hello()
	cl.must(250, "MAIL FROM:<>")
	cl.must(550, "RCPT TO:<%s>", fwd.From)
}
