package smtpload

import (
	"bufio"
	"bytes"
	"context"
	"math/rand/v2"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestAppendMessageBodySize(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, size := range []int{2, 3, 4, 77, 78, 79, 80, 156, 157, 4096, 10000} {
		msg := appendMessage(nil, rng, 1, "a@x.test", "b@y.test", size)
		_, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
		if !ok {
			t.Fatalf("size %d: no header/body separator", size)
		}
		if len(body) != size {
			t.Errorf("size %d: body is %d bytes", size, len(body))
		}
		if !bytes.HasSuffix(msg, []byte("\r\n")) {
			t.Errorf("size %d: message does not end in CRLF", size)
		}
		for i, line := range bytes.Split(bytes.TrimSuffix(msg, []byte("\r\n")), []byte("\r\n")) {
			if bytes.ContainsAny(line, "\r\n") {
				t.Errorf("size %d line %d: bare CR or LF", size, i)
			}
			if bytes.HasPrefix(line, []byte(".")) {
				t.Errorf("size %d line %d starts with '.'", size, i)
			}
			if len(line) > 998 { // RFC 5321 §4.5.3.1.6
				t.Errorf("size %d line %d: %d bytes", size, i, len(line))
			}
		}
	}
}

// fakeServer is a minimal SMTP server on loopback: it answers EHLO with a
// multi-line reply and refuses every refuseEvery-th message at the end of
// data with 451.
type fakeServer struct {
	ln          net.Listener
	refuseEvery int
	delay       time.Duration // before the reply to the end of data
	messages    atomic.Int64
	bodies      sync.Map // message number → size of what was received
	data        sync.Map // message number → what was received, dot-stuffing intact
	remotes     sync.Map // client IP → true
	rcpts       sync.Map // RCPT TO address → *atomic.Int64
	wg          sync.WaitGroup
}

func startFake(t *testing.T, refuseEvery int, delay time.Duration) *fakeServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeServer{ln: ln, refuseEvery: refuseEvery, delay: delay}
	t.Cleanup(func() { ln.Close(); s.wg.Wait() })
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s.wg.Add(1)
			go func() { defer s.wg.Done(); s.serve(c) }()
		}
	}()
	return s
}

func (s *fakeServer) serve(c net.Conn) {
	defer c.Close()
	if host, _, err := net.SplitHostPort(c.RemoteAddr().String()); err == nil {
		s.remotes.Store(host, true)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r, w := bufio.NewReader(c), bufio.NewWriter(c)
	say := func(line string) { w.WriteString(line + "\r\n"); w.Flush() }
	say("220 fake ESMTP")
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		cmd := strings.ToUpper(strings.TrimRight(line, "\r\n"))
		switch {
		case strings.HasPrefix(cmd, "EHLO"):
			say("250-fake\r\n250-SIZE 1000000\r\n250 8BITMIME")
		case strings.HasPrefix(cmd, "RCPT"):
			addr := strings.Trim(strings.TrimSpace(strings.TrimRight(line, "\r\n")[len("RCPT TO:"):]), "<>")
			v, _ := s.rcpts.LoadOrStore(addr, new(atomic.Int64))
			v.(*atomic.Int64).Add(1)
			say("250 ok")
		case strings.HasPrefix(cmd, "MAIL"):
			say("250 ok")
		case cmd == "DATA":
			say("354 go ahead")
			var msg bytes.Buffer
			for {
				l, err := r.ReadString('\n')
				if err != nil {
					return
				}
				if l == ".\r\n" {
					break
				}
				msg.WriteString(l)
			}
			n := s.messages.Add(1)
			time.Sleep(s.delay)
			if s.refuseEvery > 0 && n%int64(s.refuseEvery) == 0 {
				say("451 4.3.0 try again")
			} else {
				s.bodies.Store(n, msg.Len())
				s.data.Store(n, msg.String())
				say("250 2.0.0 queued")
			}
		case cmd == "QUIT":
			say("221 bye")
			return
		default:
			say("500 what")
		}
	}
}

func TestRunCountsAcceptedAndRefused(t *testing.T) {
	srv := startFake(t, 5, time.Millisecond)
	res, err := Run(context.Background(), Config{
		Addrs: []string{srv.ln.Addr().String()}, Senders: 4, Messages: 50,
		From: "a@x.test", To: "b@y.test", BodySize: 4096,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Attempted != 50 || res.Accepted != 40 || res.Errors != 10 {
		t.Fatalf("attempted %d accepted %d errors %d, want 50/40/10", res.Attempted, res.Accepted, res.Errors)
	}
	if res.ErrorKinds["DATA-end 451"] != 10 {
		t.Errorf("error kinds %v, want DATA-end 451 ×10", res.ErrorKinds)
	}
	if res.P50Ms < 1 || res.P99Ms < res.P50Ms || res.MaxMs < res.P99Ms {
		t.Errorf("DATA-end latencies p50 %.2f p99 %.2f max %.2f ms: want >= 1 ms, ordered", res.P50Ms, res.P99Ms, res.MaxMs)
	}
	if res.AcceptedPerS <= 0 || res.WallS <= 0 {
		t.Errorf("rate %.1f over %.2f s", res.AcceptedPerS, res.WallS)
	}
	srv.bodies.Range(func(_, v any) bool {
		// Headers plus the 4096-byte body.
		if n := v.(int); n < 4096 || n > 4096+512 {
			t.Errorf("server received %d bytes", n)
		}
		return true
	})
}

func TestRunSourceAddresses(t *testing.T) {
	srv := startFake(t, 0, 0)
	res, err := Run(context.Background(), Config{
		Addrs: []string{srv.ln.Addr().String()}, Senders: 4, Messages: 20, Sources: 3,
		From: "a@x.test", To: "b@y.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 20 {
		t.Fatalf("accepted %d of 20: %v", res.Accepted, res.ErrorKinds)
	}
	var got []string
	srv.remotes.Range(func(k, _ any) bool { got = append(got, k.(string)); return true })
	slices.Sort(got)
	if want := []string{"127.0.1.1", "127.0.1.2", "127.0.1.3"}; !slices.Equal(got, want) {
		t.Errorf("client addresses %v, want %v", got, want)
	}
}

func TestRunCountsConnectionFailures(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	res, err := Run(context.Background(), Config{
		Addrs: []string{addr}, Senders: 2, Messages: 6, From: "a@x.test", To: "b@y.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 0 || res.Errors != 6 || res.ErrorKinds["connect: connection refused"] != 6 {
		t.Fatalf("accepted %d errors %d kinds %v", res.Accepted, res.Errors, res.ErrorKinds)
	}
}

func TestRunStopsAtDuration(t *testing.T) {
	// Each message takes the fake server at least 20 ms, so two senders
	// bounded to 200 ms cannot get near the million asked for: the run
	// stops on its duration (the test's own timeout catches a hang).
	srv := startFake(t, 0, 20*time.Millisecond)
	res, err := Run(context.Background(), Config{
		Addrs: []string{srv.ln.Addr().String()}, Senders: 2, Messages: 1_000_000,
		Duration: 200 * time.Millisecond, From: "a@x.test", To: "b@y.test",
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted == 0 || res.Accepted > 40 {
		t.Errorf("accepted %d in ~200 ms at 20 ms each over 2 senders", res.Accepted)
	}
}

func TestPercentile(t *testing.T) {
	var d []time.Duration
	for i := 100; i >= 1; i-- {
		d = append(d, time.Duration(i))
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{50, 50}, {99, 99}, {100, 100}, {1, 1}} {
		if got := Percentile(d, tt.p); got != tt.want {
			t.Errorf("p%v = %v, want %v", tt.p, got, tt.want)
		}
	}
	if Percentile(nil, 99) != 0 {
		t.Error("percentile of nothing is not zero")
	}
}

// TestRunRetries: temporary failures are retried on the next address up to
// Attempts in all and counted apart; a message that runs out of attempts is
// an error.
func TestRunRetries(t *testing.T) {
	closedAddr := func(t *testing.T) string {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close()
		return addr
	}
	for _, tt := range []struct {
		name                     string
		refuseEvery              int  // the fake's 451 at the end of data
		deadFirst                bool // a closed port first in Addrs
		attempts                 int
		messages                 int
		wantAccepted, wantErrors int
		wantRetried              int
		wantKind                 string
	}{
		// One sender; every 3rd attempt the fake sees is refused, and a
		// retry comes right after its refusal, so it is never a third:
		// the 30 messages take 44 attempts, 14 of them refused once.
		{name: "451 retried", refuseEvery: 3, attempts: 5, messages: 30, wantAccepted: 30, wantRetried: 14, wantKind: "DATA-end 451"},
		{name: "no retries", refuseEvery: 3, attempts: 1, messages: 30, wantAccepted: 20, wantErrors: 10},
		// Half the messages start on the closed port and move to the fake.
		{name: "refused connection retried", deadFirst: true, attempts: 2, messages: 20, wantAccepted: 20, wantRetried: 10, wantKind: "connect: connection refused"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := startFake(t, tt.refuseEvery, 0)
			addrs := []string{srv.ln.Addr().String()}
			if tt.deadFirst {
				addrs = []string{closedAddr(t), srv.ln.Addr().String()}
			}
			res, err := Run(context.Background(), Config{
				Addrs: addrs, Senders: 1, Messages: tt.messages, From: "a@x.test", To: "b@y.test",
				Attempts: tt.attempts, RetryBackoff: time.Millisecond, Bucket: 10 * time.Millisecond,
			})
			if err != nil {
				t.Fatal(err)
			}
			if res.Accepted != tt.wantAccepted || res.Errors != tt.wantErrors || res.RetriedMessages != tt.wantRetried {
				t.Fatalf("accepted %d errors %d retried %d (retries %d, kinds %v), want %d/%d/%d",
					res.Accepted, res.Errors, res.RetriedMessages, res.Retries, res.RetryKinds, tt.wantAccepted, tt.wantErrors, tt.wantRetried)
			}
			if tt.wantKind != "" && res.RetryKinds[tt.wantKind] != res.Retries {
				t.Errorf("retry kinds %v, want all %d of %q", res.RetryKinds, res.Retries, tt.wantKind)
			}
			if res.Retries < res.RetriedMessages {
				t.Errorf("%d retries for %d retried messages", res.Retries, res.RetriedMessages)
			}
			var acked, failed int
			for i := range res.Timeline.Accepted {
				acked += res.Timeline.Accepted[i]
				failed += res.Timeline.Failed[i]
			}
			if acked != res.Accepted || failed != res.Retries+res.Errors {
				t.Errorf("timeline: %d acknowledged, %d failed attempts; want %d and %d", acked, failed, res.Accepted, res.Retries+res.Errors)
			}
		})
	}
}

// TestRunRecipients: message n goes to Recipients[(n-1) % len].
func TestRunRecipients(t *testing.T) {
	srv := startFake(t, 0, 0)
	rcpts := []string{"u1@y.test", "u2@y.test", "u3@y.test"}
	res, err := Run(context.Background(), Config{
		Addrs: []string{srv.ln.Addr().String()}, Senders: 2, Messages: 9, From: "a@x.test", Recipients: rcpts,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 9 {
		t.Fatalf("accepted %d of 9: %v", res.Accepted, res.ErrorKinds)
	}
	got := map[string]int{}
	srv.rcpts.Range(func(k, v any) bool { got[k.(string)] = int(v.(*atomic.Int64).Load()); return true })
	for _, r := range rcpts {
		if got[r] != 3 {
			t.Errorf("recipients %v, want 3 each of %v", got, rcpts)
			break
		}
	}
}

// TestCorpus: a Corpus replaces the generated messages, each sent as it
// is but for dot-stuffing (RFC 5321 §4.5.2) and a missing final CRLF, in
// turn.
func TestCorpus(t *testing.T) {
	srv := startFake(t, 0, 0)
	corpus := [][]byte{
		[]byte("From: <a@x.test>\r\nSubject: one\r\n\r\nbody\r\n"),
		[]byte("From: <a@x.test>\r\nSubject: two\r\n\r\n.leading dot\r\n..two dots\r\nend\r\n"),
		[]byte("From: <a@x.test>\r\nSubject: three\r\n\r\nno final line end"),
	}
	sent := map[string]string{ // what goes on the wire for each
		"one":   string(corpus[0]),
		"two":   "From: <a@x.test>\r\nSubject: two\r\n\r\n..leading dot\r\n...two dots\r\nend\r\n",
		"three": string(corpus[2]) + "\r\n",
	}
	res, err := Run(context.Background(), Config{
		Addrs: []string{srv.ln.Addr().String()}, Senders: 2, Messages: 6,
		From: "a@x.test", To: "b@y.test", Corpus: corpus,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Accepted != 6 || res.Errors != 0 {
		t.Fatalf("accepted %d, errors %d (%v)", res.Accepted, res.Errors, res.ErrorKinds)
	}
	seen := map[string]int{}
	srv.data.Range(func(_, v any) bool {
		msg := v.(string)
		_, rest, _ := strings.Cut(msg, "Subject: ")
		subject, _, _ := strings.Cut(rest, "\r\n")
		if want, ok := sent[subject]; !ok || msg != want {
			t.Errorf("received %q, want %q", msg, want)
		}
		seen[subject]++
		return true
	})
	if seen["one"] != 2 || seen["two"] != 2 || seen["three"] != 2 {
		t.Errorf("each corpus message should be sent twice: %v", seen)
	}
}
