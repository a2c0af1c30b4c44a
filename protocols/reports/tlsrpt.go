package reports

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	evlog "github.com/surat-mail/surat/log"
)

// tlsReport is RFC 8460 §4.4's report object.
type tlsReport struct {
	OrganizationName string            `json:"organization-name"`
	DateRange        tlsDateRange      `json:"date-range"`
	ContactInfo      string            `json:"contact-info"`
	ReportID         string            `json:"report-id"`
	Policies         []tlsPolicyResult `json:"policies"`
}

type tlsDateRange struct {
	Start string `json:"start-datetime"` // RFC 3339 (§4.4)
	End   string `json:"end-datetime"`
}

type tlsPolicyResult struct {
	Policy         tlsPolicy          `json:"policy"`
	Summary        tlsSummary         `json:"summary"`
	FailureDetails []tlsFailureDetail `json:"failure-details,omitempty"`
}

type tlsPolicy struct {
	Type    string   `json:"policy-type"`
	Strings []string `json:"policy-string,omitempty"`
	Domain  string   `json:"policy-domain"`
	MXHosts []string `json:"mx-host,omitempty"`
}

type tlsSummary struct {
	Successful uint64 `json:"total-successful-session-count"`
	Failed     uint64 `json:"total-failure-session-count"`
}

type tlsFailureDetail struct {
	ResultType          string `json:"result-type"`
	SendingMTAIP        string `json:"sending-mta-ip,omitempty"`
	ReceivingMXHostname string `json:"receiving-mx-hostname,omitempty"`
	ReceivingMXHelo     string `json:"receiving-mx-helo,omitempty"`
	ReceivingIP         string `json:"receiving-ip,omitempty"`
	FailedSessionCount  uint64 `json:"failed-session-count"`
	AdditionalInfo      string `json:"additional-information,omitempty"`
	FailureReasonCode   string `json:"failure-reason-code,omitempty"`
}

// BuildTLSReport writes the TLS-RPT report JSON (RFC 8460 §4.4) for one
// domain-day's rows: one policies entry per distinct policy, with its
// session counts and failure details. The same rows give the same bytes.
func BuildTLSReport(m Meta, day *evlog.TLSDayRecord, rows []*evlog.TLSRowRecord) ([]byte, error) {
	r := tlsReport{
		OrganizationName: m.OrgName, ContactInfo: m.Email, ReportID: m.ReportID,
		DateRange: tlsDateRange{Start: m.Begin.UTC().Format("2006-01-02T15:04:05Z"), End: m.End.UTC().Format("2006-01-02T15:04:05Z")},
		Policies:  []tlsPolicyResult{},
	}
	index := map[string]int{} // policy identity → position in r.Policies (look-ups only)
	for _, row := range rows {
		p := row.GetPolicy()
		key := strings.Join([]string{p.GetType(), p.GetDomain(), strings.Join(p.GetStrings(), "\n"), strings.Join(p.GetMxHosts(), "\n")}, "\x00")
		i, ok := index[key]
		if !ok {
			i = len(r.Policies)
			index[key] = i
			r.Policies = append(r.Policies, tlsPolicyResult{Policy: tlsPolicy{Type: p.GetType(), Strings: p.GetStrings(),
				Domain: orDefault(p.GetDomain(), day.GetDomain()), MXHosts: p.GetMxHosts()}})
		}
		pr := &r.Policies[i]
		f := row.GetFailure()
		if f == nil {
			pr.Summary.Successful += row.GetCount()
			continue
		}
		pr.Summary.Failed += row.GetCount()
		pr.FailureDetails = append(pr.FailureDetails, tlsFailureDetail{
			ResultType: f.GetResultType(), SendingMTAIP: f.GetSendingMtaIp(), ReceivingMXHostname: f.GetReceivingMxHostname(),
			ReceivingMXHelo: f.GetReceivingMxHelo(), ReceivingIP: f.GetReceivingIp(), FailedSessionCount: row.GetCount(),
			AdditionalInfo: f.GetAdditionalInformation(), FailureReasonCode: f.GetFailureReasonCode(),
		})
	}
	for i := range r.Policies {
		slices.SortStableFunc(r.Policies[i].FailureDetails, func(a, b tlsFailureDetail) int {
			return cmp.Or(cmp.Compare(a.ResultType, b.ResultType), cmp.Compare(a.ReceivingMXHostname, b.ReceivingMXHostname),
				cmp.Compare(a.ReceivingIP, b.ReceivingIP), cmp.Compare(b.FailedSessionCount, a.FailedSessionCount))
		})
	}
	out, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("reports: encode TLS report: %w", err)
	}
	return append(out, '\n'), nil
}
