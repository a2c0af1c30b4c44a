package admin

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/address"
)

// Reports is the read side of the DMARC and TLS-RPT reports (*mailbox.Store
// has it).
type Reports interface {
	// DMARCReports lists the received aggregate report summaries of a
	// domain ("" for all), newest first.
	DMARCReports(domain string) ([]*evlog.DmarcReportReceived, error)
	DMARCDays() ([]*evlog.DmarcDayRecord, error)
	TLSDays() ([]*evlog.TLSDayRecord, error)
}

// DMARCSource is one source row of a received report's summary.
type DMARCSource struct {
	SourceIP    string `json:"source_ip"`
	Count       uint64 `json:"count"`
	HeaderFrom  string `json:"header_from,omitempty"`
	Disposition string `json:"disposition"`
	DKIM        string `json:"dkim"`
	SPF         string `json:"spf"`
}

// DMARCReport is one entry of GET /v1/dmarc/reports: an aggregate report
// another receiver sent about one of our domains, summarized.
type DMARCReport struct {
	Domain      string        `json:"domain"`
	OrgName     string        `json:"org_name"`
	Email       string        `json:"email,omitempty"`
	ReportID    string        `json:"report_id"`
	Begin       time.Time     `json:"begin"`
	End         time.Time     `json:"end"`
	Policy      string        `json:"policy,omitempty"`
	Messages    uint64        `json:"messages"`
	Sources     []DMARCSource `json:"sources"`
	MoreSources uint32        `json:"more_sources,omitempty"`
	Received    time.Time     `json:"received"`
}

// DMARCReportsResponse is the body of GET /v1/dmarc/reports.
type DMARCReportsResponse struct {
	Reports []DMARCReport `json:"reports"`
}

// PendingReport is one domain-day whose report has not gone out yet.
type PendingReport struct {
	Kind     string   `json:"kind"` // "dmarc" or "tlsrpt"
	Domain   string   `json:"domain"`
	Day      string   `json:"day"` // YYYY-MM-DD, UTC
	Rows     uint32   `json:"rows"`
	Count    uint64   `json:"count"`    // messages (DMARC) or sessions (TLS-RPT) in the rows
	Overflow uint64   `json:"overflow"` // counted in no row: the day had the most rows kept
	RUA      []string `json:"rua"`
}

// PendingReportsResponse is the body of GET /v1/dmarc/pending.
type PendingReportsResponse struct {
	Pending []PendingReport `json:"pending"`
}

func dmarcReportJSON(r *evlog.DmarcReportReceived) DMARCReport {
	out := DMARCReport{Domain: r.GetDomain(), OrgName: r.GetOrgName(), Email: r.GetEmail(), ReportID: r.GetReportId(),
		Begin: time.Unix(r.GetBeginUnix(), 0).UTC(), End: time.Unix(r.GetEndUnix(), 0).UTC(), Policy: r.GetPolicy(),
		Messages: r.GetMessages(), MoreSources: r.GetMoreSources(), Received: time.Unix(r.GetReceivedUnix(), 0).UTC(),
		Sources: []DMARCSource{}}
	for _, s := range r.GetSources() {
		out.Sources = append(out.Sources, DMARCSource{SourceIP: s.GetSourceIp(), Count: s.GetCount(), HeaderFrom: s.GetHeaderFrom(),
			Disposition: s.GetDisposition(), DKIM: s.GetDkim(), SPF: s.GetSpf()})
	}
	return out
}

// DefaultDMARCReportsLimit is how many reports GET /v1/dmarc/reports
// returns without a limit; MaxDMARCReportsLimit bounds the limit, so that
// an answer stays well under what the Client reads (a report holds up to
// 200 sources).
const (
	DefaultDMARCReportsLimit = 100
	MaxDMARCReportsLimit     = 1000
)

// listDMARCReports serves GET /v1/dmarc/reports[?domain=D][&limit=N].
func (s *Server) listDMARCReports(w http.ResponseWriter, r *http.Request) {
	limit := DefaultDMARCReportsLimit
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > MaxDMARCReportsLimit {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("bad limit %q: want 1 to %d", v, MaxDMARCReportsLimit))
			return
		}
		limit = n
	}
	domain := r.URL.Query().Get("domain")
	if domain != "" {
		d, err := address.Domain(domain)
		if err != nil {
			writeError(w, http.StatusBadRequest, "bad domain: "+err.Error())
			return
		}
		domain = d
	}
	out := DMARCReportsResponse{Reports: []DMARCReport{}}
	if s.cfg.Reports != nil {
		list, err := s.cfg.Reports.DMARCReports(domain)
		if err != nil {
			s.internal(w, "list DMARC reports", err)
			return
		}
		for _, rec := range list[:min(len(list), limit)] {
			out.Reports = append(out.Reports, dmarcReportJSON(rec))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// listPendingReports serves GET /v1/dmarc/pending: the DMARC and TLS-RPT
// domain-days not sent yet, by day.
func (s *Server) listPendingReports(w http.ResponseWriter, _ *http.Request) {
	out := PendingReportsResponse{Pending: []PendingReport{}}
	if s.cfg.Reports == nil {
		writeJSON(w, http.StatusOK, out)
		return
	}
	dmarc, err := s.cfg.Reports.DMARCDays()
	if err != nil {
		s.internal(w, "list DMARC days", err)
		return
	}
	tls, err := s.cfg.Reports.TLSDays()
	if err != nil {
		s.internal(w, "list TLS-RPT days", err)
		return
	}
	day := func(d uint32) string { return time.Unix(int64(d)*86400, 0).UTC().Format(time.DateOnly) }
	for _, d := range dmarc {
		if d.GetSentUnix() == 0 {
			out.Pending = append(out.Pending, PendingReport{Kind: "dmarc", Domain: d.GetDomain(), Day: day(d.GetDay()), Rows: d.GetRows(),
				Count: d.GetMessages(), Overflow: d.GetOverflow(), RUA: append([]string{}, d.GetPolicy().GetRua()...)})
		}
	}
	for _, d := range tls {
		if d.GetSentUnix() == 0 {
			out.Pending = append(out.Pending, PendingReport{Kind: "tlsrpt", Domain: d.GetDomain(), Day: day(d.GetDay()), Rows: d.GetRows(),
				Count: d.GetSessions(), Overflow: d.GetOverflow(), RUA: append([]string{}, d.GetRua()...)})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// DMARCReports lists at most limit (0: the server's default) received
// DMARC aggregate report summaries of domain ("" for every domain),
// newest first per domain.
func (c *Client) DMARCReports(ctx context.Context, domain string, limit int) ([]DMARCReport, error) {
	q := url.Values{}
	if domain != "" {
		q.Set("domain", domain)
	}
	if limit > 0 {
		q.Set("limit", strconv.Itoa(limit))
	}
	path := "/v1/dmarc/reports"
	if len(q) > 0 {
		path += "?" + q.Encode()
	}
	var out DMARCReportsResponse
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Reports, err
}

// PendingReports lists the DMARC and TLS-RPT domain-days whose reports
// have not gone out yet.
func (c *Client) PendingReports(ctx context.Context) ([]PendingReport, error) {
	var out PendingReportsResponse
	err := c.do(ctx, http.MethodGet, "/v1/dmarc/pending", nil, &out)
	return out.Pending, err
}
