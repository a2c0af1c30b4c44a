package reports

import (
	"net/netip"
	"slices"
	"testing"
	"time"
)

func sampleDMARC(ip string, dkimPass bool, at time.Time) DMARCResult {
	return DMARCResult{
		SourceIP: netip.MustParseAddr(ip), HeaderFrom: "Sender.TEST.", EnvelopeFrom: "bounce.sender.test",
		Policy:      DMARCPolicy{Domain: "sender.test", P: "Reject", Pct: 100, RUA: []string{"mailto:dmarc@sender.test", "mailto:agg@reports.test!10m"}},
		Disposition: "none", DKIMAligned: dkimPass, SPFAligned: false,
		Overrides: []Override{{Type: "local_policy", Comment: "report-only\r\n"}},
		DKIM:      []DKIMResult{{Domain: "sender.test", Selector: "s1", Result: "pass"}},
		SPF:       SPFResult{Domain: "bounce.sender.test", Scope: "mfrom", Result: "softfail"},
		Date:      at,
	}
}

func TestDMARCEventNormalizes(t *testing.T) {
	at := time.Date(2025, 12, 1, 10, 0, 0, 0, time.UTC)
	e := DMARCEvent(sampleDMARC("::ffff:192.0.2.1", true, at)).GetDmarcRecorded()
	p, r := e.GetPolicy(), e.GetRow()
	if p.GetDomain() != "sender.test" || p.GetP() != "reject" || p.GetSp() != "reject" || p.GetAdkim() != "r" || p.GetAspf() != "r" ||
		p.GetPct() != 100 || len(p.GetRua()) != 2 {
		t.Errorf("policy %v", p)
	}
	if r.GetSourceIp() != "192.0.2.1" || r.GetHeaderFrom() != "sender.test" || r.GetDkimAligned() != "pass" || r.GetSpfAligned() != "fail" ||
		r.GetReasons()[0].GetComment() != "report-only" || r.GetSpf().GetResult() != "softfail" || e.GetDateUnix() != at.Unix() {
		t.Errorf("row %v", r)
	}
	noRUA := sampleDMARC("192.0.2.1", true, at)
	noRUA.Policy.RUA = nil
	if DMARCEvent(noRUA) != nil {
		t.Error("a policy without rua gave an event")
	}
}

func TestTLSEvent(t *testing.T) {
	at := time.Unix(1764590000, 0)
	o := TLSOutcome{PolicyDomain: "Rcpt.Test", PolicyType: PolicySTS, PolicyStrings: []string{"version: STSv1", "mode: enforce", "mx: mx.rcpt.test"},
		MXHosts: []string{"mx.rcpt.test"}, Failure: TLSFailure{ResultType: ResultCertificateExpired, ReceivingMXHostname: "MX.rcpt.test",
			ReceivingIP: "::ffff:203.0.113.5", SendingMTAIP: "not an address"}, RUA: []string{"mailto:tlsrpt@rcpt.test"}, Date: at}
	e := TLSEvent(o).GetTlsResult()
	if e.GetPolicy().GetDomain() != "rcpt.test" || e.GetFailure().GetResultType() != "certificate-expired" ||
		e.GetFailure().GetReceivingMxHostname() != "mx.rcpt.test" || e.GetFailure().GetReceivingIp() != "203.0.113.5" || e.GetFailure().GetSendingMtaIp() != "" || e.GetDateUnix() != at.Unix() {
		t.Errorf("event %v", e)
	}
	o.Success = true
	if TLSEvent(o).GetTlsResult().GetFailure() != nil {
		t.Error("a success carries a failure")
	}
	o.RUA = nil
	if TLSEvent(o) != nil {
		t.Error("a domain without rua gave an event")
	}
}

func TestParseTLSRPTRecord(t *testing.T) {
	for txt, want := range map[string][]string{
		"v=TLSRPTv1; rua=mailto:a@example.com":                             {"mailto:a@example.com"},
		"v=TLSRPTv1;rua=mailto:a@example.com,https://r.example.com/report": {"mailto:a@example.com", "https://r.example.com/report"},
		"v=TLSRPTv2; rua=mailto:a@example.com":                             nil,
		"rua=mailto:a@example.com; v=TLSRPTv1":                             nil, // RFC 8460 §3: v first
		"v=spf1 -all":                                                      nil,
	} {
		if got := ParseTLSRPTRecord(txt); !slices.Equal(got, want) {
			t.Errorf("%q: %q, want %q", txt, got, want)
		}
	}
}

func TestParseRUA(t *testing.T) {
	for uri, want := range map[string]destination{
		"mailto:dmarc@example.com":         {maxSize: 0},
		"mailto:dmarc@example.com!10m":     {maxSize: 10 << 20},
		"mailto:dmarc@example.com!500":     {maxSize: 500},
		"MAILTO:Dmarc%40example.com":       {},
		"mailto:dmarc@example.com?subject": {},
	} {
		d, err := parseRUA(uri)
		if err != nil || d.addr.String() != "dmarc@example.com" || d.maxSize != want.maxSize {
			t.Errorf("%q: %v %v", uri, d, err)
		}
	}
	for _, bad := range []string{"https://example.com/r", "mailto:", "mailto:not an address", "dmarc@example.com"} {
		if _, err := parseRUA(bad); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
}
