package reports

import (
	"bytes"
	"context"
	"io"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/outbound"
)

// smtpSink is a real SMTP server on loopback that keeps what it accepts.
type smtpSink struct {
	mu   sync.Mutex
	got  []sunk
	done chan struct{}
}

type sunk struct {
	from  string
	rcpts []string
	data  []byte
}

func (s *smtpSink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) {
	return &sinkSession{sink: s}, nil
}

type sinkSession struct {
	sink *smtpSink
	cur  sunk
}

func (s *sinkSession) Reset()        { s.cur = sunk{} }
func (s *sinkSession) Logout() error { return nil }
func (s *sinkSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.cur.from = from
	return nil
}

func (s *sinkSession) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.cur.rcpts = append(s.cur.rcpts, to)
	return nil
}

func (s *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = b
	s.sink.mu.Lock()
	s.sink.got = append(s.sink.got, s.cur)
	if len(s.sink.got) == 1 {
		close(s.sink.done)
	}
	s.sink.mu.Unlock()
	return nil
}

// TestReportTravelsThroughTheQueue: the queued report is delivered by the
// real queue worker over SMTP to a (smart)host, and reads back there.
func TestReportTravelsThroughTheQueue(t *testing.T) {
	_, r := startDNS(t, map[string][]string{"sender.test._report._dmarc.reports.test": {"v=DMARC1"}})
	f := newFixture(t, r)
	f.record(t, dmarcAt("192.0.2.1", true, dayStart.Add(time.Hour)), dmarcAt("192.0.2.2", false, dayStart.Add(2*time.Hour)))
	f.now = dayStart.Add(25 * time.Hour)
	if p, err := f.s.SendDue(context.Background()); err != nil || p.Queued != 1 {
		t.Fatalf("pass %+v %v", p, err)
	}

	sink := &smtpSink{done: make(chan struct{})}
	srv := gosmtp.NewServer(sink)
	srv.Domain = "sink.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()

	w, err := outbound.New(outbound.Config{
		Store: f.c.Store, Cluster: f.c, OneRoute: true, Hostname: testHost, LocalDomains: []string{"example.org"},
		Deliverer:    &outbound.Transport{Smarthost: ln.Addr().String(), SmarthostTLS: outbound.TLSNone, Hostname: testHost, DialTimeout: 5 * time.Second, CommandTimeout: 10 * time.Second},
		PollInterval: 10 * time.Millisecond, LeaderCheck: 10 * time.Millisecond,
		CollectInterval: -1,
		Now:             func() time.Time { return f.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.Run(ctx) }()
	defer func() { cancel(); <-done }()
	select {
	case <-sink.done:
	case <-time.After(20 * time.Second):
		t.Fatal("the report was not delivered")
	}
	sink.mu.Lock()
	m := sink.got[0]
	sink.mu.Unlock()
	if m.from != "noreply-dmarc@example.org" || !slices.Equal(m.rcpts, []string{"dmarc@sender.test", "agg@reports.test"}) {
		t.Fatalf("envelope %q → %q", m.from, m.rcpts)
	}
	s, err := ParseAggregate(bytes.NewReader(m.data))
	if err != nil || s.OrgName != testHost || s.Domain != "sender.test" || s.Messages != 2 || len(s.Sources) != 2 {
		t.Fatalf("delivered report: %+v %v", s, err)
	}
}
