package reports

import (
	"bytes"
	"cmp"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// The aggregate report's XML (RFC 7489 Appendix C), used both to write
// ours and to read those we receive. Numbers are strings so that reading
// tolerates the white space and forms real reporters produce; unknown
// elements (DMARCbis additions, vendor extensions) are ignored on reading.
type feedback struct {
	XMLName  xml.Name        `xml:"feedback"`
	Version  string          `xml:"version,omitempty"`
	Metadata reportMetadata  `xml:"report_metadata"`
	Policy   policyPublished `xml:"policy_published"`
	Records  []record        `xml:"record"`
}

type reportMetadata struct {
	OrgName          string    `xml:"org_name"`
	Email            string    `xml:"email"`
	ExtraContactInfo string    `xml:"extra_contact_info,omitempty"`
	ReportID         string    `xml:"report_id"`
	DateRange        dateRange `xml:"date_range"`
	Errors           []string  `xml:"error,omitempty"`
}

type dateRange struct {
	Begin string `xml:"begin"`
	End   string `xml:"end"`
}

type policyPublished struct {
	Domain string `xml:"domain"`
	ADKIM  string `xml:"adkim,omitempty"`
	ASPF   string `xml:"aspf,omitempty"`
	P      string `xml:"p"`
	SP     string `xml:"sp,omitempty"`
	Pct    string `xml:"pct,omitempty"`
	FO     string `xml:"fo,omitempty"`
	NP     string `xml:"np,omitempty"` // DMARCbis
}

type record struct {
	Row         row         `xml:"row"`
	Identifiers identifiers `xml:"identifiers"`
	AuthResults authResults `xml:"auth_results"`
}

type row struct {
	SourceIP        string          `xml:"source_ip"`
	Count           string          `xml:"count"`
	PolicyEvaluated policyEvaluated `xml:"policy_evaluated"`
}

type policyEvaluated struct {
	Disposition string           `xml:"disposition"`
	DKIM        string           `xml:"dkim"`
	SPF         string           `xml:"spf"`
	Reasons     []overrideReason `xml:"reason,omitempty"`
}

type overrideReason struct {
	Type    string `xml:"type"`
	Comment string `xml:"comment,omitempty"`
}

type identifiers struct {
	EnvelopeTo   string `xml:"envelope_to,omitempty"`
	EnvelopeFrom string `xml:"envelope_from"`
	HeaderFrom   string `xml:"header_from"`
}

type authResults struct {
	DKIM []dkimAuthResult `xml:"dkim,omitempty"`
	SPF  []spfAuthResult  `xml:"spf"`
}

type dkimAuthResult struct {
	Domain      string `xml:"domain"`
	Selector    string `xml:"selector,omitempty"`
	Result      string `xml:"result"`
	HumanResult string `xml:"human_result,omitempty"`
}

type spfAuthResult struct {
	Domain string `xml:"domain"`
	Scope  string `xml:"scope,omitempty"`
	Result string `xml:"result"`
}

// Meta is what a report says about its sender.
type Meta struct {
	OrgName  string // our host name (RFC 7489 §7.2.1.1: the receiver)
	Email    string // the report's From address
	ReportID string
	Begin    time.Time
	End      time.Time // inclusive: the last second the report covers
}

// DayRange is the UTC day's first and last second.
func DayRange(day uint32) (begin, end time.Time) {
	begin = time.Unix(int64(day)*86400, 0).UTC()
	return begin, begin.Add(24*time.Hour - time.Second)
}

// ReportID is the report_id of domain's report for day: the same on every
// node and after a leader change, unique per (domain, day) and kind.
func ReportID(kind, domain string, day uint32) string {
	begin, _ := DayRange(day)
	return fmt.Sprintf("%s.%s.%s", begin.Format("20060102"), kind, domain)
}

// BuildDMARCReport writes the aggregate report XML (RFC 7489 Appendix C)
// for one domain-day's rows, records ordered by source address then
// count, so the same rows always give the same bytes.
func BuildDMARCReport(m Meta, day *evlog.DmarcDayRecord, rows []*evlog.DmarcRowRecord) ([]byte, error) {
	p := day.GetPolicy()
	fb := feedback{
		Version: "1.0",
		Metadata: reportMetadata{OrgName: m.OrgName, Email: m.Email, ReportID: m.ReportID,
			DateRange: dateRange{Begin: strconv.FormatInt(m.Begin.Unix(), 10), End: strconv.FormatInt(m.End.Unix(), 10)}},
		Policy: policyPublished{Domain: day.GetDomain(), ADKIM: p.GetAdkim(), ASPF: p.GetAspf(), P: p.GetP(), SP: p.GetSp(),
			Pct: strconv.Itoa(int(p.GetPct())), FO: p.GetFo(), NP: p.GetNp()},
	}
	if o := day.GetOverflow(); o > 0 {
		// RFC 7489 Appendix C: error, "any errors encountered while
		// generating the report".
		fb.Metadata.Errors = append(fb.Metadata.Errors, fmt.Sprintf("%d messages not reported: more distinct results than %s keeps a day", o, m.OrgName))
	}
	rows = slices.Clone(rows)
	slices.SortStableFunc(rows, func(a, b *evlog.DmarcRowRecord) int {
		return cmp.Or(cmp.Compare(a.GetRow().GetSourceIp(), b.GetRow().GetSourceIp()), cmp.Compare(b.GetCount(), a.GetCount()))
	})
	for _, r := range rows {
		x := r.GetRow()
		rec := record{
			Row: row{SourceIP: x.GetSourceIp(), Count: strconv.FormatUint(r.GetCount(), 10),
				PolicyEvaluated: policyEvaluated{Disposition: x.GetDisposition(), DKIM: x.GetDkimAligned(), SPF: x.GetSpfAligned()}},
			Identifiers: identifiers{EnvelopeFrom: x.GetEnvelopeFrom(), HeaderFrom: x.GetHeaderFrom()},
		}
		for _, o := range x.GetReasons() {
			rec.Row.PolicyEvaluated.Reasons = append(rec.Row.PolicyEvaluated.Reasons, overrideReason{Type: o.GetType(), Comment: o.GetComment()})
		}
		for _, d := range x.GetDkim() {
			rec.AuthResults.DKIM = append(rec.AuthResults.DKIM, dkimAuthResult{Domain: d.GetDomain(), Selector: d.GetSelector(), Result: d.GetResult()})
		}
		// Appendix C: there is always at least one SPF result.
		s := x.GetSpf()
		rec.AuthResults.SPF = []spfAuthResult{{Domain: s.GetDomain(), Scope: s.GetScope(), Result: orDefault(s.GetResult(), "none")}}
		if rec.Identifiers.EnvelopeFrom == "" {
			rec.Identifiers.EnvelopeFrom = s.GetDomain()
		}
		fb.Records = append(fb.Records, rec)
	}
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(fb); err != nil {
		return nil, fmt.Errorf("reports: encode DMARC report: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}
