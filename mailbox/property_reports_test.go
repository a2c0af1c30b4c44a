package mailbox

import (
	"fmt"

	evlog "github.com/surat-mail/surat/log"
)

// genReportDay is what the generator recorded for one domain-day, so
// that some of its DmarcReportsSent/TLSReportsSent cover exactly that
// (apply refuses the others, as it should).
type genReportDay struct {
	rows map[string]bool
	n    uint64
}

const genReportDay0 = 20400 // 2025-11-08

var (
	genReportDomains = []string{"sender.test", "example.com", "Upper.test"} // the last one is not kept
	genReportIPs     = []string{"192.0.2.1", "192.0.2.2", "2001:db8::25"}
)

// reportEvent returns a DMARC or TLS-RPT recording, a report sent (with
// the right counts or not), a prune, or a received report summary.
func (g *generator) reportEvent() []*evlog.Event {
	if g.reports == nil {
		g.reports = map[string]*genReportDay{}
	}
	dom := g.pick(genReportDomains)
	day := uint32(genReportDay0 + g.rng.IntN(4))
	date := int64(day)*86400 + int64(g.rng.IntN(86400))
	rua := []string{"mailto:rua@" + dom}
	if g.rng.IntN(6) == 0 {
		rua = nil
	}
	track := func(kind, row string) {
		k := fmt.Sprintf("%s/%s/%d", kind, dom, day)
		d := g.reports[k]
		if d == nil {
			d = &genReportDay{rows: map[string]bool{}}
			g.reports[k] = d
		}
		d.rows[row] = true
		d.n++
	}
	closeDay := func(kind string) (rows uint32, n uint64) {
		d := g.reports[fmt.Sprintf("%s/%s/%d", kind, dom, day)]
		if d != nil && g.rng.IntN(3) > 0 {
			return uint32(len(d.rows)), d.n
		}
		return uint32(g.rng.IntN(3)), uint64(g.rng.IntN(3))
	}
	switch g.rng.IntN(10) {
	case 0, 1, 2:
		ip, res := g.pick(genReportIPs), []string{"pass", "fail"}[g.rng.IntN(2)]
		if rua != nil && dom != "Upper.test" {
			track("dmarc", ip+res)
		}
		return []*evlog.Event{{Kind: &evlog.Event_DmarcRecorded{DmarcRecorded: &evlog.DmarcRecorded{
			Policy: &evlog.DmarcPolicy{Domain: dom, P: "reject", Adkim: "r", Aspf: "r", Pct: 100, Rua: rua},
			Row: &evlog.DmarcRow{SourceIp: ip, HeaderFrom: dom, Disposition: "none", DkimAligned: res, SpfAligned: "fail",
				Dkim: []*evlog.DmarcDkimResult{{Domain: dom, Selector: "s1", Result: res}},
				Spf:  &evlog.DmarcSpfResult{Domain: dom, Scope: "mfrom", Result: "softfail"}},
			DateUnix: date}}}}
	case 3, 4:
		var f *evlog.TLSFailure
		if g.rng.IntN(3) == 0 {
			f = &evlog.TLSFailure{ResultType: "certificate-expired", ReceivingMxHostname: "mx." + dom, ReceivingIp: g.pick(genReportIPs)}
		}
		if rua != nil && dom != "Upper.test" {
			track("tls", fmt.Sprint(f))
		}
		return []*evlog.Event{{Kind: &evlog.Event_TlsResult{TlsResult: &evlog.TLSResult{
			Policy:  &evlog.TLSPolicy{Type: "sts", Domain: dom, Strings: []string{"version: STSv1", "mode: enforce"}, MxHosts: []string{"mx." + dom}},
			Failure: f, Rua: rua, DateUnix: date}}}}
	case 5:
		rows, n := closeDay("dmarc")
		return []*evlog.Event{{Kind: &evlog.Event_DmarcReportsSent{DmarcReportsSent: &evlog.DmarcReportsSent{
			Domain: dom, Day: day, Rows: rows, Messages: n, SentUnix: date + 86400}}}}
	case 6:
		rows, n := closeDay("tls")
		return []*evlog.Event{{Kind: &evlog.Event_TlsReportsSent{TlsReportsSent: &evlog.TLSReportsSent{
			Domain: dom, Day: day, Rows: rows, Sessions: n, SentUnix: date + 86400}}}}
	case 7:
		if g.rng.IntN(3) > 0 {
			return nil
		}
		return []*evlog.Event{{Kind: &evlog.Event_ReportsPruned{ReportsPruned: &evlog.ReportsPruned{BeforeDay: genReportDay0 + 1}}}}
	default:
		return []*evlog.Event{{Kind: &evlog.Event_DmarcReportReceived{DmarcReportReceived: &evlog.DmarcReportReceived{
			Domain: "example.org", OrgName: g.pick([]string{"google.com", "Enterprise Outlook"}),
			ReportId: fmt.Sprint(g.rng.IntN(5)), BeginUnix: date, EndUnix: date + 86399, Policy: "reject",
			Sources:  []*evlog.DmarcReportSource{{SourceIp: g.pick(genReportIPs), Count: uint64(1 + g.rng.IntN(9)), Disposition: "none", Dkim: "pass", Spf: "fail"}},
			Messages: 3, ReceivedUnix: date}}}}
	}
}

// reportEntries returns n report events as entries after the given ones
// (apart from the rest of the workload, whose events they do not touch,
// so that the rest stays as it was).
func (g *generator) reportEntries(after []entry, n int) []entry {
	index := uint64(1)
	if len(after) > 0 {
		index = after[len(after)-1].index + 1
	}
	var out []entry
	for range n {
		evs := g.reportEvent()
		if len(evs) == 0 {
			continue
		}
		p, err := evlog.EncodeBatch(&evlog.Batch{Events: evs})
		if err != nil {
			panic(err)
		}
		if len(out) > 0 && g.rng.IntN(2) == 0 {
			out[len(out)-1].proposals = append(out[len(out)-1].proposals, p)
			continue
		}
		out = append(out, entry{index: index, proposals: [][]byte{p}})
		index++
	}
	return out
}
