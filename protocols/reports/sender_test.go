package reports

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
)

// testCluster is a leading node over a direct-apply store that records
// every proposal.
type testCluster struct {
	*mailboxtest.Store
	mu      sync.Mutex
	batches []*evlog.Batch
	leader  bool
}

func (c *testCluster) IsLeader() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.leader
}
func (c *testCluster) Ready() bool { return true }

func (c *testCluster) Propose(ctx context.Context, p []byte) ([]byte, error) {
	b, err := evlog.DecodeBatch(p)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.batches = append(c.batches, b)
	c.mu.Unlock()
	return c.Store.Propose(ctx, p)
}

func (c *testCluster) proposals() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.batches)
}

func (c *testCluster) last() *evlog.Batch {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.batches[len(c.batches)-1]
}

const (
	testHost = "mx.example.test"
	day0     = 20424 // 2025-12-02
)

var dayStart = time.Unix(day0*86400, 0).UTC()

type fixtureEnv struct {
	c   *testCluster
	s   *Sender
	now time.Time
}

func newFixture(t *testing.T, r Resolver) *fixtureEnv {
	t.Helper()
	st := mailboxtest.Open(t)
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.org"}}})
	f := &fixtureEnv{c: &testCluster{Store: st, leader: true}}
	s, err := New(Config{Store: st, Cluster: f.c, Resolver: r, Hostname: testHost, LocalDomains: []string{"example.org"},
		Now: func() time.Time { return f.now }})
	if err != nil {
		t.Fatal(err)
	}
	f.s = s
	return f
}

func (f *fixtureEnv) record(t *testing.T, events ...*evlog.Event) {
	t.Helper()
	f.c.Store.Must(t, events...)
}

var senderRUA = []string{"mailto:dmarc@sender.test", "mailto:agg@reports.test!10m", "mailto:postmaster@example.org",
	"https://reports.test/dmarc", "mailto:other@unauthorized.test", "mailto:tiny@sender.test!100"}

func dmarcAt(ip string, pass bool, at time.Time) *evlog.Event {
	r := sampleDMARC(ip, pass, at)
	r.Policy.RUA = senderRUA
	return DMARCEvent(r)
}

// queuedReport returns the report message the Queued of b references.
func queuedReport(t *testing.T, c *testCluster, b *evlog.Batch) (*evlog.Queued, []byte) {
	t.Helper()
	for _, e := range b.GetEvents() {
		if q := e.GetQueued(); q != nil {
			body, err := c.Store.Blob(q.GetBlob())
			if err != nil {
				t.Fatal(err)
			}
			return q, body
		}
	}
	t.Fatal("no Queued in the proposal")
	return nil, nil
}

// attachment returns a message's header and its one non-text part,
// gunzipped, with that part's type and file name.
func attachment(t *testing.T, msg []byte) (message.Header, string, string, []byte) {
	t.Helper()
	e, err := message.Read(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	mr := e.MultipartReader()
	if mr == nil {
		t.Fatal("not multipart")
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			t.Fatal("no attachment")
		}
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := p.Header.ContentType()
		if strings.HasPrefix(ct, "text/") {
			continue
		}
		_, dp, _ := p.Header.ContentDisposition()
		zr, err := gzip.NewReader(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return e.Header, ct, dp["filename"], data
	}
}

func eventNames(b *evlog.Batch) []string {
	var out []string
	for _, e := range b.GetEvents() {
		out = append(out, e.Name())
	}
	return out
}

func TestSenderQueuesTheDMARCReportAndClosesTheDayInOneProposal(t *testing.T) {
	_, r := startDNS(t, map[string][]string{"sender.test._report._dmarc.reports.test": {"v=DMARC1"}})
	f := newFixture(t, r)
	at := dayStart.Add(9 * time.Hour)
	f.record(t, dmarcAt("192.0.2.1", true, at), dmarcAt("192.0.2.1", true, at.Add(time.Hour)), dmarcAt("192.0.2.2", false, at))

	// Before the day ends, and within the delay after it: nothing.
	for _, now := range []time.Time{at.Add(time.Hour), dayStart.Add(24*time.Hour + 10*time.Minute)} {
		f.now = now
		if p, err := f.s.SendDue(context.Background()); err != nil || p != (Pass{}) {
			t.Fatalf("at %v: %+v %v", now, p, err)
		}
	}
	if f.c.proposals() != 0 {
		t.Fatalf("%d proposals before the report was due", f.c.proposals())
	}

	f.now = dayStart.Add(24*time.Hour + 20*time.Minute)
	p, err := f.s.SendDue(context.Background())
	if err != nil || p.DMARC != 1 || p.Queued != 1 {
		t.Fatalf("pass %+v %v", p, err)
	}
	if n := f.c.proposals(); n != 1 {
		t.Fatalf("%d proposals, want 1 (body, Queued and DmarcReportsSent together)", n)
	}
	b := f.c.last()
	if got := eventNames(b); !slices.Equal(got, []string{"blob_stored", "queued", "dmarc_reports_sent"}) {
		t.Fatalf("proposal %v", got)
	}
	q, body := queuedReport(t, f.c, b)
	var rcpts []string
	for _, r := range q.GetRecipients() {
		rcpts = append(rcpts, r.GetAddress())
	}
	// Local, https:, unauthorized external and too small destinations
	// are left out.
	if q.GetMailFrom() != "noreply-dmarc@example.org" || !slices.Equal(rcpts, []string{"dmarc@sender.test", "agg@reports.test"}) {
		t.Fatalf("queued from %q to %v", q.GetMailFrom(), rcpts)
	}
	h, ct, name, xmlData := attachment(t, body)
	begin, end := dayStart.Unix(), dayStart.Unix()+86399
	wantName := fmt.Sprintf("%s!sender.test!%d!%d.xml.gz", testHost, begin, end)
	if ct != "application/gzip" || name != wantName {
		t.Fatalf("attachment %s %q, want application/gzip %q", ct, name, wantName)
	}
	if subj := h.Get("Subject"); subj != "Report Domain: sender.test Submitter: "+testHost+" Report-ID: <20251202.dmarc.sender.test@"+testHost+">" {
		t.Fatalf("Subject %q", subj)
	}
	if from := h.Get("From"); from != "<noreply-dmarc@example.org>" {
		t.Fatalf("From %q", from)
	}

	// Our report reads back with our own parser.
	s, err := ParseAggregate(bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if s.OrgName != testHost || s.Domain != "sender.test" || s.Messages != 3 || s.Begin.Unix() != begin || s.End.Unix() != end {
		t.Fatalf("read back %+v", s)
	}
	checkDMARCXML(t, xmlData)

	// Closed: a second pass, and a result arriving late, send nothing.
	f.record(t, dmarcAt("192.0.2.9", true, at))
	f.now = f.now.Add(time.Hour)
	if p, err := f.s.SendDue(context.Background()); err != nil || p != (Pass{}) || f.c.proposals() != 1 {
		t.Fatalf("second pass %+v %v, %d proposals", p, err, f.c.proposals())
	}
	days, _ := f.c.Store.DMARCDays()
	if len(days) != 1 || days[0].GetSentUnix() != f.now.Add(-time.Hour).Unix() || days[0].GetLate() != 1 {
		t.Fatalf("day after sending %v", days)
	}
}

// checkDMARCXML parses the report back and checks what RFC 7489
// Appendix C requires of it.
func checkDMARCXML(t *testing.T, data []byte) {
	t.Helper()
	if !bytes.HasPrefix(data, []byte(xml.Header)) {
		t.Errorf("no XML declaration")
	}
	var fb feedback
	if err := xml.Unmarshal(data, &fb); err != nil {
		t.Fatalf("report XML: %v\n%s", err, data)
	}
	m := fb.Metadata
	if fb.Version != "1.0" || m.OrgName != testHost || m.Email != "noreply-dmarc@example.org" || m.ReportID != "20251202.dmarc.sender.test" ||
		m.DateRange.Begin != fmt.Sprint(dayStart.Unix()) || m.DateRange.End != fmt.Sprint(dayStart.Unix()+86399) {
		t.Errorf("report_metadata %+v", m)
	}
	if p := fb.Policy; p.Domain != "sender.test" || p.P != "reject" || p.SP != "reject" || p.ADKIM != "r" || p.ASPF != "r" || p.Pct != "100" {
		t.Errorf("policy_published %+v", p)
	}
	if len(fb.Records) != 2 {
		t.Fatalf("%d records, want 2", len(fb.Records))
	}
	r := fb.Records[0]
	if r.Row.SourceIP != "192.0.2.1" || r.Row.Count != "2" || r.Row.PolicyEvaluated.Disposition != "none" ||
		r.Row.PolicyEvaluated.DKIM != "pass" || r.Row.PolicyEvaluated.SPF != "fail" ||
		len(r.Row.PolicyEvaluated.Reasons) != 1 || r.Row.PolicyEvaluated.Reasons[0].Type != "local_policy" {
		t.Errorf("row %+v", r.Row)
	}
	if r.Identifiers.HeaderFrom != "sender.test" || r.Identifiers.EnvelopeFrom != "bounce.sender.test" {
		t.Errorf("identifiers %+v", r.Identifiers)
	}
	if len(r.AuthResults.DKIM) != 1 || r.AuthResults.DKIM[0].Selector != "s1" || len(r.AuthResults.SPF) != 1 ||
		r.AuthResults.SPF[0].Scope != "mfrom" || r.AuthResults.SPF[0].Result != "softfail" {
		t.Errorf("auth_results %+v", r.AuthResults)
	}
	// Element order of Appendix C's sequences.
	for _, seq := range [][]string{{"<version>", "<report_metadata>", "<policy_published>", "<record>"},
		{"<row>", "<identifiers>", "<auth_results>"}, {"<disposition>", "<dkim>pass", "<spf>fail"}} {
		last := -1
		for _, tag := range seq {
			i := bytes.Index(data, []byte(tag))
			if i <= last {
				t.Errorf("%s out of order in\n%s", tag, data)
			}
			last = i
		}
	}
}

func TestSenderWaitsForDNSAndForChangedRows(t *testing.T) {
	z, r := startDNS(t, map[string][]string{"sender.test._report._dmarc.reports.test": {"v=DMARC1;"}})
	z.fail("sender.test._report._dmarc.reports.test", true)
	f := newFixture(t, r)
	at := dayStart.Add(time.Hour)
	f.record(t, dmarcAt("192.0.2.1", true, at))
	f.now = dayStart.Add(25 * time.Hour)
	if _, err := f.s.SendDue(context.Background()); !errors.Is(err, errUnverified) {
		t.Fatalf("temporary DNS failure: %v, want errUnverified", err)
	}
	if f.c.proposals() != 0 {
		t.Fatal("proposed despite the DNS failure")
	}
	z.fail("sender.test._report._dmarc.reports.test", false)

	// A result committed between reading the day and proposing its
	// report: apply refuses the proposal (nothing queued), the next pass
	// reports both.
	stale := &racingStore{Store: f.c.Store, race: func() { f.record(t, dmarcAt("192.0.2.7", true, at)) }}
	s2, _ := New(Config{Store: stale, Cluster: f.c, Resolver: r, Hostname: testHost, LocalDomains: []string{"example.org"},
		Now: func() time.Time { return f.now }})
	_, err := s2.SendDue(context.Background())
	if code := evlog.ErrorCode_ERROR_CODE_REPORT_CHANGED; err == nil || !strings.Contains(err.Error(), "rows") {
		t.Fatalf("changed rows: %v, want %v", err, code)
	}
	if q, _ := f.c.Store.DueQueueEntries(f.now.Unix()+1e6, 10); len(q) != 0 {
		t.Fatalf("a refused report was queued: %v", q)
	}
	if p, err := f.s.SendDue(context.Background()); err != nil || p.Queued != 1 {
		t.Fatalf("next pass %+v %v", p, err)
	}
	_, body := queuedReport(t, f.c, f.c.last())
	if s, err := ParseAggregate(bytes.NewReader(body)); err != nil || s.Messages != 2 {
		t.Fatalf("report after the race: %+v %v", s, err)
	}
}

// racingStore commits another result right after the sender read a day.
type racingStore struct {
	*mailboxtest.Store
	race func()
}

func (s *racingStore) DMARCRows(domain string, day uint32) ([]*evlog.DmarcRowRecord, error) {
	rows, err := s.Store.DMARCRows(domain, day)
	s.race()
	return rows, err
}

func TestSenderClosesDaysWithNoDestination(t *testing.T) {
	f := newFixture(t, nil) // no resolver: only same-organization destinations
	r := sampleDMARC("192.0.2.1", true, dayStart)
	r.Policy.RUA = []string{"mailto:dmarc@elsewhere.test", "mailto:postmaster@example.org"}
	f.record(t, DMARCEvent(r))
	f.now = dayStart.Add(48 * time.Hour)
	p, err := f.s.SendDue(context.Background())
	if err != nil || p.DMARC != 1 || p.Queued != 0 {
		t.Fatalf("pass %+v %v", p, err)
	}
	if got := eventNames(f.c.last()); !slices.Equal(got, []string{"dmarc_reports_sent"}) {
		t.Fatalf("proposal %v, want the day closed alone", got)
	}
}

func TestSenderTLSReport(t *testing.T) {
	f := newFixture(t, nil)
	at := dayStart.Add(3 * time.Hour)
	o := TLSOutcome{PolicyDomain: "rcpt.test", PolicyType: PolicySTS, PolicyStrings: []string{"version: STSv1", "mode: enforce", "mx: mx.rcpt.test", "max_age: 86400"},
		MXHosts: []string{"mx.rcpt.test"}, Success: true, RUA: []string{"mailto:tlsrpt@rcpt.test"}, Date: at}
	fail := o
	fail.Success, fail.Failure = false, TLSFailure{ResultType: ResultCertificateExpired, ReceivingMXHostname: "mx.rcpt.test"}
	f.record(t, TLSEvent(o), TLSEvent(o), TLSEvent(o), TLSEvent(fail))
	f.now = dayStart.Add(24*time.Hour + time.Hour)
	p, err := f.s.SendDue(context.Background())
	if err != nil || p.TLS != 1 || p.Queued != 1 || f.c.proposals() != 1 {
		t.Fatalf("pass %+v %v", p, err)
	}
	b := f.c.last()
	if got := eventNames(b); !slices.Equal(got, []string{"blob_stored", "queued", "tls_reports_sent"}) {
		t.Fatalf("proposal %v", got)
	}
	q, body := queuedReport(t, f.c, b)
	if q.GetMailFrom() != "tlsrpt-noreply@example.org" || q.GetRecipients()[0].GetAddress() != "tlsrpt@rcpt.test" {
		t.Fatalf("queued %v", q)
	}
	h, ct, name, data := attachment(t, body)
	mt, params, _ := h.ContentType()
	if subj := h.Get("Subject"); subj != "Report Domain: rcpt.test Submitter: "+testHost+" Report-ID: <20251202.tlsrpt.rcpt.test@"+testHost+">" {
		t.Fatalf("Subject %q", subj)
	}
	if h.Get("TLS-Report-Domain") != "rcpt.test" || h.Get("TLS-Report-Submitter") != testHost ||
		mt != "multipart/report" || params["report-type"] != "tlsrpt" || ct != "application/tlsrpt+gzip" ||
		name != fmt.Sprintf("%s!rcpt.test!%d!%d.json.gz", testHost, dayStart.Unix(), dayStart.Unix()+86399) {
		t.Fatalf("RFC 8460 §5.3 headers: %v %s %q", h, ct, name)
	}
	var rep struct {
		Org       string `json:"organization-name"`
		DateRange struct {
			Start time.Time `json:"start-datetime"`
			End   time.Time `json:"end-datetime"`
		} `json:"date-range"`
		Contact  string `json:"contact-info"`
		ReportID string `json:"report-id"`
		Policies []struct {
			Policy struct {
				Type    string   `json:"policy-type"`
				Strings []string `json:"policy-string"`
				Domain  string   `json:"policy-domain"`
				MX      []string `json:"mx-host"`
			} `json:"policy"`
			Summary struct {
				OK   int `json:"total-successful-session-count"`
				Fail int `json:"total-failure-session-count"`
			} `json:"summary"`
			Failures []struct {
				Type  string `json:"result-type"`
				Host  string `json:"receiving-mx-hostname"`
				Count int    `json:"failed-session-count"`
			} `json:"failure-details"`
		} `json:"policies"`
	}
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatalf("report JSON: %v\n%s", err, data)
	}
	if rep.Org != testHost || rep.Contact != "tlsrpt-noreply@example.org" || rep.ReportID != "20251202.tlsrpt.rcpt.test" ||
		!rep.DateRange.Start.Equal(dayStart) || !rep.DateRange.End.Equal(dayStart.Add(24*time.Hour-time.Second)) || len(rep.Policies) != 1 {
		t.Fatalf("report %+v", rep)
	}
	pol := rep.Policies[0]
	if pol.Policy.Type != "sts" || pol.Policy.Domain != "rcpt.test" || len(pol.Policy.Strings) != 4 || pol.Policy.MX[0] != "mx.rcpt.test" ||
		pol.Summary.OK != 3 || pol.Summary.Fail != 1 || len(pol.Failures) != 1 || pol.Failures[0].Type != "certificate-expired" || pol.Failures[0].Count != 1 {
		t.Fatalf("policy %+v", pol)
	}
}

func TestSenderPrunesPastRetention(t *testing.T) {
	f := newFixture(t, nil)
	f.record(t, dmarcAt("192.0.2.1", true, dayStart.Add(time.Hour)))
	f.now = dayStart.Add(9 * 24 * time.Hour) // past the 7-day retention
	p, err := f.s.SendDue(context.Background())
	if err != nil || !p.Pruned || p.DMARC != 0 {
		t.Fatalf("pass %+v %v", p, err)
	}
	if days, _ := f.c.Store.DMARCDays(); len(days) != 0 {
		t.Fatalf("days left %v", days)
	}
}

func TestSenderRunsOnlyWhileLeading(t *testing.T) {
	f := newFixture(t, nil)
	f.c.leader = false
	f.record(t, dmarcAt("192.0.2.1", true, dayStart.Add(time.Hour)))
	f.now = dayStart.Add(48 * time.Hour)
	s, _ := New(Config{Store: f.c.Store, Cluster: f.c, Hostname: testHost, Now: func() time.Time { return f.now },
		LeaderCheck: 5 * time.Millisecond, Interval: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	time.Sleep(50 * time.Millisecond)
	if n := f.c.proposals(); n != 0 {
		t.Fatalf("%d proposals from a follower", n)
	}
	f.c.mu.Lock()
	f.c.leader = true
	f.c.mu.Unlock()
	deadline := time.Now().Add(5 * time.Second)
	for {
		days, _ := f.c.Store.DMARCDays()
		if len(days) == 1 && days[0].GetSentUnix() != 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leader did not send")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if got := eventNames(f.c.batches[0]); len(got) != 0 {
		t.Fatalf("first proposal %v, want the empty barrier", got)
	}
}

// TestSenderTwoLeadersQueueOneReport: a leader that read a day, then
// lost the race to a newer leader that sent it, gets its proposal refused
// (REPORT_SENT) whole: one report is queued, not two.
func TestSenderTwoLeadersQueueOneReport(t *testing.T) {
	f := newFixture(t, nil)
	f.record(t, dmarcAt("192.0.2.1", true, dayStart.Add(time.Hour)))
	f.now = dayStart.Add(25 * time.Hour)
	newer := f.s
	var newerErr error
	old := &racingStore{Store: f.c.Store, race: func() { _, newerErr = newer.SendDue(context.Background()) }}
	s, _ := New(Config{Store: old, Cluster: f.c, Hostname: testHost, LocalDomains: []string{"example.org"},
		Now: func() time.Time { return f.now }})
	p, err := s.SendDue(context.Background())
	if err != nil || newerErr != nil || p.Queued != 0 {
		t.Fatalf("older leader: %+v %v; newer: %v", p, err, newerErr)
	}
	q, err := f.c.Store.DueQueueEntries(f.now.Unix()+1e6, 10)
	if err != nil || len(q) != 1 {
		t.Fatalf("%d reports queued, want 1: %v", len(q), err)
	}
	if n := f.c.proposals(); n != 2 {
		t.Fatalf("%d proposals, want the newer leader's and the refused one", n)
	}
}

// TestSenderLargeReportInChunks: a report over one chunk stores its
// first chunks in proposals of their own, pinned, and the last with the
// Queued entry and the day's closing.
func TestSenderLargeReportInChunks(t *testing.T) {
	f := newFixture(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	var evs []*evlog.Event
	for i := range 1500 {
		r := sampleDMARC(fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256), true, dayStart.Add(time.Hour))
		r.Policy.RUA = []string{"mailto:dmarc@sender.test"}
		sel := make([]byte, 200)
		for j := range sel {
			sel[j] = "abcdefghijklmnopqrstuvwxyz0123456789"[rng.IntN(36)]
		}
		r.DKIM[0].Selector = string(sel) // incompressible
		evs = append(evs, DMARCEvent(r))
	}
	for len(evs) > 0 {
		n := min(len(evs), 200)
		f.record(t, evs[:n]...)
		evs = evs[n:]
	}
	f.now = dayStart.Add(25 * time.Hour)
	if p, err := f.s.SendDue(context.Background()); err != nil || p.Queued != 1 {
		t.Fatalf("pass %+v %v", p, err)
	}
	f.c.mu.Lock()
	batches := slices.Clone(f.c.batches)
	f.c.mu.Unlock()
	if len(batches) < 2 {
		t.Fatalf("%d proposals: the report fit in one chunk; make it larger", len(batches))
	}
	for _, b := range batches[:len(batches)-1] {
		c := b.GetEvents()[0].GetBlobStored()
		if len(b.GetEvents()) != 1 || c == nil || c.GetPinnedUntilUnix() <= f.now.Unix() {
			t.Fatalf("an early chunk's proposal: %v", eventNames(b))
		}
	}
	if got := eventNames(batches[len(batches)-1]); !slices.Equal(got, []string{"blob_stored", "queued", "dmarc_reports_sent"}) {
		t.Fatalf("last proposal %v", got)
	}
	_, body := queuedReport(t, f.c, batches[len(batches)-1])
	if s, err := ParseAggregate(bytes.NewReader(body)); err != nil || s.Messages != 1500 {
		t.Fatalf("large report reads back: %v", err)
	}
}

// TestSenderSignsReports: a report is DKIM-signed by its From domain
// before it is stored; a signing failure sends it unsigned.
func TestSenderSignsReports(t *testing.T) {
	for _, fail := range []bool{false, true} {
		f := newFixture(t, nil)
		var signedFor string
		f.s.cfg.Sign = func(domain string, msg []byte) ([]byte, error) {
			signedFor = domain
			if fail {
				return nil, errors.New("no key")
			}
			if !bytes.Contains(msg, []byte("Subject: Report Domain:")) {
				t.Errorf("signed something other than the report: %.80q", msg)
			}
			return []byte("DKIM-Signature: v=1; d=" + domain + "; b=x\r\n"), nil
		}
		r := sampleDMARC("192.0.2.1", true, dayStart)
		r.Policy.RUA = []string{"mailto:dmarc@sender.test"}
		f.record(t, DMARCEvent(r))
		f.now = dayStart.Add(48 * time.Hour)
		if p, err := f.s.SendDue(context.Background()); err != nil || p.Queued != 1 {
			t.Fatalf("pass %+v %v", p, err)
		}
		_, body := queuedReport(t, f.c, f.c.last())
		if signed := bytes.HasPrefix(body, []byte("DKIM-Signature: v=1; d=example.org; b=x\r\n")); signed == fail || signedFor != "example.org" {
			t.Fatalf("fail=%v: signed for %q, body starts %.60q", fail, signedFor, body)
		}
	}
}
