package smtp

import (
	"sync"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// captureRelay queues like queueRelay and keeps what it was given.
type captureRelay struct {
	queueRelay
	mu  sync.Mutex
	got []Outbound
}

func (r *captureRelay) QueueEvents(m Outbound) ([]*evlog.Event, error) {
	r.mu.Lock()
	r.got = append(r.got, m)
	r.mu.Unlock()
	return r.queueRelay.QueueEvents(m)
}

// RFC 8689: submission advertises REQUIRETLS on TLS sessions only, takes
// the MAIL parameter, and hands it to the queue with each relayed
// recipient; the MX listener, which relays nothing, does not offer it.
func TestRequireTLSSubmission(t *testing.T) {
	c := sharedCluster(t)
	n := c.Nodes[0]
	relay := &captureRelay{}
	_, addr := c.serve(t, n, Submission, func(cfg *Config) { cfg.Relay = relay })

	cl := dial(t, addr)
	if hasKeyword(cl.ehlo(), "REQUIRETLS") {
		t.Fatal("REQUIRETLS offered before STARTTLS")
	}
	cl.starttls()
	if !hasKeyword(cl.ehlo(), "REQUIRETLS") {
		t.Fatal("REQUIRETLS not offered after STARTTLS")
	}
	cl.must(235, "AUTH PLAIN %s", plain(alice, alicePass))
	cl.must(250, "MAIL FROM:<%s> REQUIRETLS", alice)
	cl.must(250, "RCPT TO:<x@remote.test>")
	if code, msg := cl.data(message("requiretls")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	// The next transaction without it: not carried over.
	cl.must(250, "MAIL FROM:<%s>", alice)
	cl.must(250, "RCPT TO:<y@remote.test>")
	if code, msg := cl.data(message("plain")); code != 250 {
		t.Fatalf("end of data: %d %s", code, msg)
	}
	relay.mu.Lock()
	got := relay.got
	relay.mu.Unlock()
	if len(got) != 2 || len(got[0].Params) != 1 || !got[0].Params[0].RequireTLS || got[1].Params[0].RequireTLS {
		t.Fatalf("relay got %+v", got)
	}

	_, mx := c.serve(t, n, MX, nil)
	cl = dial(t, mx)
	if hasKeyword(cl.hello(), "REQUIRETLS") {
		t.Fatal("the MX listener offers REQUIRETLS")
	}
	code, msg := cl.cmd("MAIL FROM:<%s> REQUIRETLS", sender)
	expectReply(t, "REQUIRETLS on MX", 504, "5.5.4", code, msg)
}
