package mailbox

import (
	"fmt"
	"math/rand/v2"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

const testDay = 20424 // 2025-12-02

func dmarcRecorded(dom, ip, dkim string, date int64, rua ...string) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_DmarcRecorded{DmarcRecorded: &evlog.DmarcRecorded{
		Policy: &evlog.DmarcPolicy{Domain: dom, P: "quarantine", Adkim: "r", Aspf: "r", Pct: 100, Rua: rua},
		Row: &evlog.DmarcRow{SourceIp: ip, HeaderFrom: dom, EnvelopeFrom: dom, Disposition: "none", DkimAligned: dkim, SpfAligned: "fail",
			Dkim: []*evlog.DmarcDkimResult{{Domain: dom, Selector: "sel", Result: dkim}},
			Spf:  &evlog.DmarcSpfResult{Domain: dom, Scope: "mfrom", Result: "fail"}},
		DateUnix: date}}}
}

func dmarcSent(dom string, day, rows uint32, n uint64) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_DmarcReportsSent{DmarcReportsSent: &evlog.DmarcReportsSent{
		Domain: dom, Day: day, Rows: rows, Messages: n, SentUnix: int64(day+1)*86400 + 600}}}
}

func tlsResult(dom string, fail string, date int64, rua ...string) *evlog.Event {
	e := &evlog.TLSResult{Policy: &evlog.TLSPolicy{Type: "sts", Domain: dom, Strings: []string{"version: STSv1", "mode: enforce"},
		MxHosts: []string{"mx." + dom}}, Rua: rua, DateUnix: date}
	if fail != "" {
		e.Failure = &evlog.TLSFailure{ResultType: fail, ReceivingMxHostname: "mx." + dom, ReceivingIp: "192.0.2.9"}
	}
	return &evlog.Event{Kind: &evlog.Event_TlsResult{TlsResult: e}}
}

func TestDMARCRecordedAggregatesPerDomainDay(t *testing.T) {
	h := newHarness(t)
	at := int64(testDay)*86400 + 3600
	h.ok(dmarcRecorded("sender.test", "192.0.2.1", "pass", at, "mailto:d@sender.test"),
		dmarcRecorded("sender.test", "192.0.2.1", "pass", at+60, "mailto:d@sender.test"), // same row
		dmarcRecorded("sender.test", "192.0.2.2", "pass", at, "mailto:d@sender.test"),
		dmarcRecorded("sender.test", "192.0.2.1", "fail", at, "mailto:d@sender.test"),
		dmarcRecorded("sender.test", "192.0.2.1", "pass", at+86400, "mailto:d@sender.test"), // the next day
		dmarcRecorded("norua.test", "192.0.2.1", "pass", at),                                // no rua: not kept
		dmarcRecorded("Bad Domain", "192.0.2.1", "pass", at, "mailto:x@y.test"),             // not kept, not refused
	)
	days, err := h.s.DMARCDays()
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 2 || days[0].GetDomain() != "sender.test" || days[0].GetDay() != testDay || days[1].GetDay() != testDay+1 {
		t.Fatalf("days %v", days)
	}
	if d := days[0]; d.GetRows() != 3 || d.GetMessages() != 4 || d.GetPolicy().GetP() != "quarantine" {
		t.Fatalf("day %v", d)
	}
	rows, err := h.s.DMARCRows("sender.test", testDay)
	if err != nil {
		t.Fatal(err)
	}
	counts := map[string]uint64{}
	for _, r := range rows {
		counts[r.GetRow().GetSourceIp()+"/"+r.GetRow().GetDkimAligned()] = r.GetCount()
	}
	if len(rows) != 3 || counts["192.0.2.1/pass"] != 2 || counts["192.0.2.2/pass"] != 1 || counts["192.0.2.1/fail"] != 1 {
		t.Fatalf("rows %v", counts)
	}
}

func TestDMARCRowsAreBounded(t *testing.T) {
	h := newHarness(t)
	at := int64(testDay) * 86400
	var evs []*evlog.Event
	for i := range MaxDMARCRowsPerDay + 3 {
		evs = append(evs, dmarcRecorded("big.test", fmt.Sprintf("10.%d.%d.1", i/256, i%256), "pass", at, "mailto:r@big.test"))
	}
	evs = append(evs, dmarcRecorded("big.test", "10.0.0.1", "pass", at, "mailto:r@big.test")) // an existing row still counts
	h.ok(evs...)
	days, _ := h.s.DMARCDays()
	if len(days) != 1 || days[0].GetRows() != MaxDMARCRowsPerDay || days[0].GetOverflow() != 3 || days[0].GetMessages() != MaxDMARCRowsPerDay+1 {
		t.Fatalf("day %+v", days)
	}
}

func TestDMARCReportsSentClosesTheDayOnce(t *testing.T) {
	h := newHarness(t)
	at := int64(testDay)*86400 + 100
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_REPORT, dmarcSent("sender.test", testDay, 1, 1))
	h.ok(dmarcRecorded("sender.test", "192.0.2.1", "pass", at, "mailto:d@sender.test"),
		dmarcRecorded("sender.test", "192.0.2.2", "pass", at, "mailto:d@sender.test"))
	h.fails(evlog.ErrorCode_ERROR_CODE_REPORT_CHANGED, dmarcSent("sender.test", testDay, 1, 1))
	h.fails(evlog.ErrorCode_ERROR_CODE_INVALID, dmarcSent("Sender.test", testDay, 2, 2))
	h.ok(dmarcSent("sender.test", testDay, 2, 2))
	if rows, _ := h.s.DMARCRows("sender.test", testDay); len(rows) != 0 {
		t.Fatalf("rows left after sending: %v", rows)
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_REPORT_SENT, dmarcSent("sender.test", testDay, 2, 2))
	h.fails(evlog.ErrorCode_ERROR_CODE_REPORT_SENT, dmarcSent("sender.test", testDay, 0, 2))
	// A result committed after the report went out counts as late; it
	// never opens the day again.
	h.ok(dmarcRecorded("sender.test", "192.0.2.3", "pass", at, "mailto:d@sender.test"))
	days, _ := h.s.DMARCDays()
	if len(days) != 1 || days[0].GetSentUnix() == 0 || days[0].GetLate() != 1 || days[0].GetRows() != 0 {
		t.Fatalf("day after sending %+v", days)
	}
}

func TestTLSResultsAggregateAndClose(t *testing.T) {
	h := newHarness(t)
	at := int64(testDay)*86400 + 100
	h.ok(tlsResult("rcpt.test", "", at, "mailto:tls@rcpt.test"), tlsResult("rcpt.test", "", at, "mailto:tls@rcpt.test"),
		tlsResult("rcpt.test", "certificate-expired", at, "mailto:tls@rcpt.test"),
		tlsResult("quiet.test", "", at)) // no rua: not kept
	days, _ := h.s.TLSDays()
	if len(days) != 1 || days[0].GetRows() != 2 || days[0].GetSessions() != 3 || days[0].GetRua()[0] != "mailto:tls@rcpt.test" {
		t.Fatalf("TLS days %v", days)
	}
	rows, _ := h.s.TLSRows("rcpt.test", testDay)
	if len(rows) != 2 {
		t.Fatalf("TLS rows %v", rows)
	}
	sent := func(rows uint32, n uint64) *evlog.Event {
		return &evlog.Event{Kind: &evlog.Event_TlsReportsSent{TlsReportsSent: &evlog.TLSReportsSent{
			Domain: "rcpt.test", Day: testDay, Rows: rows, Sessions: n, SentUnix: at + 86400}}}
	}
	h.fails(evlog.ErrorCode_ERROR_CODE_REPORT_CHANGED, sent(2, 2))
	h.ok(sent(2, 3))
	h.fails(evlog.ErrorCode_ERROR_CODE_REPORT_SENT, sent(2, 3))
	if rows, _ := h.s.TLSRows("rcpt.test", testDay); len(rows) != 0 {
		t.Fatalf("rows left %v", rows)
	}
}

func TestReportsPrunedDeletesOldDays(t *testing.T) {
	h := newHarness(t)
	for d := int64(0); d < 3; d++ {
		at := (testDay+d)*86400 + 5
		h.ok(dmarcRecorded("sender.test", "192.0.2.1", "pass", at, "mailto:d@sender.test"),
			tlsResult("rcpt.test", "", at, "mailto:tls@rcpt.test"))
	}
	h.ok(dmarcSent("sender.test", testDay, 1, 1))
	h.ok(&evlog.Event{Kind: &evlog.Event_ReportsPruned{ReportsPruned: &evlog.ReportsPruned{BeforeDay: testDay + 2}}})
	days, _ := h.s.DMARCDays()
	tdays, _ := h.s.TLSDays()
	if len(days) != 1 || days[0].GetDay() != testDay+2 || len(tdays) != 1 || tdays[0].GetDay() != testDay+2 {
		t.Fatalf("after pruning: %v %v", days, tdays)
	}
	for _, d := range []uint32{testDay, testDay + 1} {
		if rows, _ := h.s.DMARCRows("sender.test", d); len(rows) != 0 {
			t.Fatalf("rows of day %d left: %v", d, rows)
		}
		if rows, _ := h.s.TLSRows("rcpt.test", d); len(rows) != 0 {
			t.Fatalf("TLS rows of day %d left: %v", d, rows)
		}
	}
}

func received(dom, org, id string, sources int, at int64) *evlog.Event {
	e := &evlog.DmarcReportReceived{Domain: dom, OrgName: org, ReportId: id, BeginUnix: 1, EndUnix: 2, Policy: "none", ReceivedUnix: at}
	for i := range sources {
		e.Sources = append(e.Sources, &evlog.DmarcReportSource{SourceIp: fmt.Sprintf("192.0.2.%d", i%250), Count: 1})
	}
	return &evlog.Event{Kind: &evlog.Event_DmarcReportReceived{DmarcReportReceived: e}}
}

func TestDMARCReportReceivedIsBounded(t *testing.T) {
	h := newHarness(t)
	h.ok(received("example.org", "google.com", "1", 2, 10), received("example.org", "google.com", "1", 3, 11)) // the same report twice
	list, _ := h.s.DMARCReports("example.org")
	if len(list) != 1 || len(list[0].GetSources()) != 3 {
		t.Fatalf("a repeated report is kept once, the latest: %v", list)
	}
	h.ok(received("example.org", "Enterprise Outlook", "x", MaxReceivedSources+7, 12))
	list, _ = h.s.DMARCReports("example.org")
	if len(list) != 2 || list[0].GetOrgName() != "Enterprise Outlook" || len(list[0].GetSources()) != MaxReceivedSources || list[0].GetMoreSources() != 7 {
		t.Fatalf("newest first, sources cut: %d %q %d %d", len(list), list[0].GetOrgName(), len(list[0].GetSources()), list[0].GetMoreSources())
	}
	for i := range MaxReceivedReports {
		h.ok(received("example.org", "bulk.test", fmt.Sprint(i), 1, int64(100+i)))
	}
	h.ok(received("example.net", "bulk.test", "n", 1, 5), received("Not A Domain", "x", "y", 1, 6))
	list, _ = h.s.DMARCReports("example.org")
	if len(list) != MaxReceivedReports || list[0].GetReportId() != fmt.Sprint(MaxReceivedReports-1) {
		t.Fatalf("%d kept, newest %q", len(list), list[0].GetReportId())
	}
	all, _ := h.s.DMARCReports("")
	if len(all) != MaxReceivedReports+1 || all[0].GetDomain() != "example.net" {
		t.Fatalf("all domains: %d, first %q", len(all), all[0].GetDomain())
	}
}

// TestReportApplyIsDeterministic feeds the same report events to two
// stores, one event a proposal in one, grouped in the other: the
// projections must be byte-identical.
func TestReportApplyIsDeterministic(t *testing.T) {
	g := &generator{rng: rand.New(rand.NewPCG(99, 1))}
	var evs []*evlog.Event
	for range 400 {
		evs = append(evs, g.reportEvent()...)
	}
	a, b := newHarness(t), newHarness(t)
	for _, e := range evs {
		a.apply(e)
	}
	for i := 0; i < len(evs); i += 5 {
		// Grouped, a refused event takes its group with it: apply the
		// group one by one in the same entry instead.
		b.index++
		var ps [][]byte
		for _, e := range evs[i:min(i+5, len(evs))] {
			ps = append(ps, encode(t, e))
		}
		b.s.Apply(b.index, ps)
	}
	_, da, err := a.s.Digest()
	if err != nil {
		t.Fatal(err)
	}
	_, db, err := b.s.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if da != db {
		t.Fatal("the same report events gave different projections")
	}
	days, _ := a.s.DMARCDays()
	reports, _ := a.s.DMARCReports("")
	if len(days) == 0 || len(reports) == 0 {
		t.Fatalf("the workload kept nothing: %d days, %d reports", len(days), len(reports))
	}
}

// TestRecordingNeverRefusesTheDelivery: a result apply cannot keep is
// dropped, and the delivery proposed with it goes through.
func TestRecordingNeverRefusesTheDelivery(t *testing.T) {
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated("ann@example.org", 1_700_000_000))
	hash := h.store("Subject: hi\r\n\r\nhello\r\n")
	long := make([]byte, maxReportText+1)
	for i := range long {
		long[i] = 'a'
	}
	bad := dmarcRecorded("sender.test", string(long), "pass", int64(testDay)*86400, "mailto:d@sender.test")
	control := dmarcRecorded("sender.test", "192.0.2.1\x00", "pass", int64(testDay)*86400, "mailto:d@sender.test")
	past := dmarcRecorded("sender.test", "192.0.2.1", "pass", -5, "mailto:d@sender.test")
	tlsBad := tlsResult("UPPER.test", "", int64(testDay)*86400, "mailto:t@upper.test")
	res := h.ok(delivered(hash, len("Subject: hi\r\n\r\nhello\r\n"), rcpt("ann@example.org", "")), bad, control, past, tlsBad)
	if len(res[0].GetUids()) != 1 {
		t.Fatalf("delivery result %v", res[0])
	}
	if days, _ := h.s.DMARCDays(); len(days) != 0 {
		t.Fatalf("results out of bounds were kept: %v", days)
	}
	if days, _ := h.s.TLSDays(); len(days) != 0 {
		t.Fatalf("TLS results out of bounds were kept: %v", days)
	}
}
