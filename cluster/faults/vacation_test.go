//go:build faults

package faults_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/cluster/faults"
)

// TestVacationOncePerSenderAcrossLeaderKill: a user's vacation script
// (RFC 5230) answers each sender once per period, whichever node accepts
// the mail and whatever happens to the leader meanwhile: the "already
// replied" record is replicated state (VacationReplied), and apply queues
// a reply only when no record runs, so two nodes accepting mail from one
// sender at once, or a retry after a failover, never send a second one.
//
// Every node relays through a smarthost that records what it gets. One
// message from a sender is answered; the leader is killed; the sender's
// next messages through every surviving node, then through the restarted
// one, get no reply. A second sender mails through all three nodes at the
// same moment, right after another leader kill, and gets exactly one.
func TestVacationOncePerSenderAcrossLeaderKill(t *testing.T) {
	sink := startSink(t)
	c := faults.Start(t, faults.Options{KeepLogsDir: t.ArtifactDir(), ExtraArgs: []string{"--smarthost", sink.addr}})
	ctx := t.Context()
	const user = "away@example.test"
	if err := boundedErr(ctx, func(ctx context.Context) error { return c.AddUser(ctx, user, "pw") }); err != nil {
		t.Fatal(err)
	}
	script := `require "vacation"; vacation :days 1 :subject "Away" "I am away.";`
	if err := c.Nodes()[0].CLI(ctx, script, "sieve", "put", user, "away", "--activate"); err != nil {
		t.Fatal(err)
	}
	if _, err := bounded(ctx, c.WaitConverged); err != nil {
		t.Fatal(err)
	}

	first := "first-" + randomID() + "@remote.test"
	sendUntilAccepted(t, ctx, c, c.Nodes()[1], first, user, "before the kill")
	waitReplies(t, sink, first, 1)

	// Kill the leader; the sender writes again through the others, then
	// through the restarted node.
	killed := killLeaderAndWait(t, ctx, c)
	for _, n := range c.Nodes() {
		if n != killed {
			sendUntilAccepted(t, ctx, c, n, first, user, "after the kill via "+n.ID())
		}
	}
	if err := killed.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := bounded(ctx, c.WaitReady); err != nil {
		t.Fatal(err)
	}
	sendUntilAccepted(t, ctx, c, killed, first, user, "via the restarted node")

	// Another sender, through every node at once, right after another
	// leader kill: the proposals race, apply keeps one reply.
	second := "second-" + randomID() + "@remote.test"
	killed = killLeaderAndWait(t, ctx, c)
	var wg sync.WaitGroup
	for _, n := range c.Nodes() {
		if n == killed {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			sendUntilAccepted(t, ctx, c, n, second, user, "racing via "+n.ID())
		}()
	}
	wg.Wait()
	if err := killed.Restart(); err != nil {
		t.Fatal(err)
	}
	if _, err := bounded(ctx, c.WaitConverged); err != nil {
		t.Fatal(err)
	}
	waitReplies(t, sink, second, 1)
	// The queue has had time to send anything more it had.
	time.Sleep(5 * time.Second)
	for _, s := range []string{first, second} {
		got := sink.to(s)
		if len(got) != 1 {
			t.Errorf("%d vacation replies to %s, want 1", len(got), s)
		}
		for _, m := range got {
			if m.from != "" || !strings.Contains(m.data, "Auto-Submitted: auto-replied") {
				t.Errorf("reply to %s: MAIL FROM:<%s>, %q", s, m.from, m.data)
			}
		}
	}
}

// killLeaderAndWait kills the leader and waits for another.
func killLeaderAndWait(t *testing.T, ctx context.Context, c *faults.Cluster) *faults.Node {
	t.Helper()
	leader, err := bounded(ctx, c.WaitLeader)
	if err != nil {
		t.Fatal(err)
	}
	if err := leader.Kill(); err != nil {
		t.Fatal(err)
	}
	if _, err := bounded(ctx, func(ctx context.Context) (string, error) { return c.WaitNewLeader(ctx, leader, 50*time.Millisecond) }); err != nil {
		t.Fatal(err)
	}
	return leader
}

// sendUntilAccepted sends one message from sender to rcpt through n until
// it is accepted: a temporary failure (an election, a node catching up)
// is tried again, as a sending MTA would.
func sendUntilAccepted(t *testing.T, ctx context.Context, c *faults.Cluster, n *faults.Node, sender, rcpt, what string) {
	t.Helper()
	msg := fmt.Sprintf("From: <%s>\r\nTo: <%s>\r\nSubject: %s\r\nMessage-ID: <%s@remote.test>\r\n\r\nHello.\r\n", sender, rcpt, what, randomID())
	_, err := waitFor(ctx, func() (bool, error) {
		err := sendOnce(ctx, n.SMTPTarget(), sender, rcpt, msg)
		if err == nil {
			return true, nil
		}
		if strings.HasPrefix(err.Error(), "5") {
			return false, fmt.Errorf("%s: %w", what, err)
		}
		time.Sleep(200 * time.Millisecond)
		return false, nil
	})
	if err != nil {
		t.Errorf("a message %s: %v", what, err)
	}
}

func sendOnce(ctx context.Context, target faults.Target, from, rcpt, msg string) error {
	conn, err := target.Connect(ctx, 10*time.Second)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	cl, err := smtp.NewClient(conn, "localhost")
	if err != nil {
		return err
	}
	defer cl.Close()
	if err := cl.Mail(from); err != nil {
		return err
	}
	if err := cl.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := cl.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return cl.Quit()
}

// waitReplies waits until the sink holds n messages to rcpt.
func waitReplies(t *testing.T, s *sink, rcpt string, n int) {
	t.Helper()
	deadline := time.Now().Add(settleWithin)
	for len(s.to(rcpt)) < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d messages to %s at the smarthost after %v, want %d", len(s.to(rcpt)), rcpt, settleWithin, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sink is a smarthost that keeps every message it is given.
type sink struct {
	addr string
	mu   sync.Mutex
	got  []sunk
}

type sunk struct {
	from string
	to   []string
	data string
}

func startSink(t *testing.T) *sink {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &sink{addr: ln.Addr().String()}
	srv := gosmtp.NewServer(s)
	srv.Domain = "smarthost.test"
	srv.AllowInsecureAuth = true
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return s
}

func (s *sink) to(rcpt string) []sunk {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []sunk
	for _, m := range s.got {
		for _, r := range m.to {
			if strings.EqualFold(r, rcpt) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// NewSession implements gosmtp.Backend.
func (s *sink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &sinkSession{s: s}, nil }

type sinkSession struct {
	s *sink
	m sunk
}

func (ss *sinkSession) Reset()        { ss.m = sunk{} }
func (ss *sinkSession) Logout() error { return nil }
func (ss *sinkSession) Mail(from string, _ *gosmtp.MailOptions) error {
	ss.m.from = from
	return nil
}
func (ss *sinkSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	ss.m.to = append(ss.m.to, to)
	return nil
}
func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.m.data = string(b)
	ss.s.mu.Lock()
	ss.s.got = append(ss.s.got, ss.m)
	ss.s.mu.Unlock()
	return nil
}
