package reports

import (
	"archive/zip"
	"bytes"
	"cmp"
	"compress/gzip"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-message"

	evlog "github.com/surat-mail/surat/log"
)

// Bounds of reading a received report: a message, its decompressed XML,
// the parts looked at and their nesting. A report past them is refused,
// whatever its compression claims (a zip bomb).
const (
	MaxReportMessage = 32 << 20 // the message as received
	MaxReportXML     = 32 << 20 // the XML once decompressed
	maxParts         = 64
	maxDepth         = 8
	maxZipEntries    = 16
	// MaxSummarySources bounds a Summary's sources (the busiest are kept).
	MaxSummarySources = 200
)

// ErrNotAReport: the message carries no aggregate report.
var ErrNotAReport = errors.New("reports: no DMARC aggregate report in the message")

// ErrTooLarge: the message, or its report once decompressed, is past the
// bounds.
var ErrTooLarge = errors.New("reports: report too large")

// Source is one row of a Summary: messages from one source with one
// outcome.
type Source struct {
	IP          string
	Count       uint64
	HeaderFrom  string
	Disposition string // none, quarantine, reject
	DKIM        string // policy_evaluated: pass or fail
	SPF         string
}

// Summary is what a received aggregate report says, in short.
type Summary struct {
	OrgName  string
	Email    string
	ReportID string
	Begin    time.Time
	End      time.Time
	Domain   string // policy_published domain: the domain reported on
	Policy   string // p= as the reporter saw it
	Messages uint64 // all the report's counts
	// Sources merges the report's records by source and outcome, the
	// busiest first, at most MaxSummarySources; MoreSources counts the
	// rest.
	Sources     []Source
	MoreSources int
}

// IsReportSubject reports whether a Subject is an aggregate report's
// (RFC 7489 §7.2.1.1: "Report Domain: D Submitter: S Report-ID: I", which
// Google spells "Report domain:"): a cheap test before ParseAggregate,
// which reads every attachment.
func IsReportSubject(subject string) bool {
	s := strings.ToLower(strings.TrimSpace(subject))
	return strings.HasPrefix(s, "report domain:") && strings.Contains(s, "submitter:")
}

// ParseAggregate reads a message carrying a DMARC aggregate report (RFC
// 7489 §7.2.1.1: a zip, gzip or plain XML attachment, or the message body
// itself) and summarizes it. ErrNotAReport when it carries none,
// ErrTooLarge past the bounds; other errors say what is wrong with the
// report.
func ParseAggregate(msg io.Reader) (*Summary, error) {
	lr := &io.LimitedReader{R: msg, N: MaxReportMessage + 1}
	e, err := message.Read(lr)
	if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
		return nil, fmt.Errorf("reports: read the message: %w", err)
	}
	parts := 0
	var found []byte
	err = walk(e, 0, &parts, func(p *message.Entity) (bool, error) {
		data, err := reportPart(p)
		if err != nil || data == nil {
			return false, err
		}
		found = data
		return true, nil
	})
	if lr.N <= 0 {
		return nil, fmt.Errorf("%w: the message is over %d bytes", ErrTooLarge, MaxReportMessage)
	}
	if err != nil && !errors.Is(err, errDone) {
		return nil, err
	}
	if found == nil {
		return nil, ErrNotAReport
	}
	return parseFeedback(found)
}

// walk calls fn on each leaf part, depth first, until it returns true.
func walk(e *message.Entity, depth int, parts *int, fn func(*message.Entity) (bool, error)) error {
	if *parts++; *parts > maxParts || depth > maxDepth {
		return fmt.Errorf("%w: more than %d parts or %d levels", ErrNotAReport, maxParts, maxDepth)
	}
	mr := e.MultipartReader()
	if mr == nil {
		done, err := fn(e)
		if err != nil {
			return err
		}
		if done {
			return errDone
		}
		return nil
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil && !message.IsUnknownCharset(err) && !message.IsUnknownEncoding(err) {
			return fmt.Errorf("reports: read a part: %w", err)
		}
		if err := walk(p, depth+1, parts, fn); err != nil {
			return err
		}
	}
}

var errDone = errors.New("done")

// reportPart returns the report XML a part holds, decompressed, or nil
// when it holds none. Only parts that are not text to read are looked at
// (by type or file name), and then by their content: zip, gzip or XML.
func reportPart(p *message.Entity) ([]byte, error) {
	t, params, _ := p.Header.ContentType()
	_, dparams, _ := p.Header.ContentDisposition()
	name := strings.ToLower(cmp.Or(dparams["filename"], params["name"]))
	named := strings.HasSuffix(name, ".zip") || strings.HasSuffix(name, ".gz") || strings.HasSuffix(name, ".xml")
	switch {
	case named:
	case t == "text/plain" || t == "text/html" || strings.HasPrefix(t, "multipart/") || strings.HasPrefix(t, "image/"):
		return nil, nil
	}
	raw, err := io.ReadAll(io.LimitReader(p.Body, MaxReportMessage+1))
	if err != nil {
		return nil, fmt.Errorf("reports: read the attachment: %w", err)
	}
	if len(raw) > MaxReportMessage {
		return nil, fmt.Errorf("%w: attachment over %d bytes", ErrTooLarge, MaxReportMessage)
	}
	switch {
	case bytes.HasPrefix(raw, []byte("PK\x03\x04")):
		return unzip(raw)
	case bytes.HasPrefix(raw, []byte{0x1f, 0x8b}):
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			return nil, fmt.Errorf("reports: gzip attachment: %w", err)
		}
		return readBounded(zr)
	case bytes.HasPrefix(bytes.TrimLeft(bytes.TrimPrefix(raw, []byte("\xef\xbb\xbf")), " \t\r\n"), []byte("<")):
		return raw, nil
	}
	return nil, nil
}

// unzip returns the first .xml file of a zip archive (Google's reports
// hold exactly one), refusing archives whose sizes pass the bounds.
func unzip(raw []byte) ([]byte, error) {
	zr, err := zip.NewReader(bytes.NewReader(raw), int64(len(raw)))
	if err != nil {
		return nil, fmt.Errorf("reports: zip attachment: %w", err)
	}
	if len(zr.File) > maxZipEntries {
		return nil, fmt.Errorf("%w: zip with %d files", ErrTooLarge, len(zr.File))
	}
	for _, f := range zr.File {
		if !strings.HasSuffix(strings.ToLower(f.Name), ".xml") && len(zr.File) > 1 {
			continue
		}
		// The declared size is checked first and the reading is bounded
		// anyway: a header can lie.
		if f.UncompressedSize64 > MaxReportXML {
			return nil, fmt.Errorf("%w: %s unpacks to %d bytes", ErrTooLarge, f.Name, f.UncompressedSize64)
		}
		rc, err := f.Open()
		if err != nil {
			return nil, fmt.Errorf("reports: zip entry %s: %w", f.Name, err)
		}
		defer rc.Close()
		return readBounded(rc)
	}
	return nil, fmt.Errorf("%w: the zip holds no .xml file", ErrNotAReport)
}

func readBounded(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxReportXML+1))
	if err != nil {
		return nil, fmt.Errorf("reports: decompress the report: %w", err)
	}
	if len(data) > MaxReportXML {
		return nil, fmt.Errorf("%w: unpacks to more than %d bytes", ErrTooLarge, MaxReportXML)
	}
	return data, nil
}

// parseFeedback reads the report XML (RFC 7489 Appendix C) and
// summarizes it.
func parseFeedback(data []byte) (*Summary, error) {
	var fb feedback
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = func(charset string, r io.Reader) (io.Reader, error) {
		switch strings.ToLower(charset) {
		case "us-ascii", "ascii", "utf8":
			return r, nil
		}
		return nil, fmt.Errorf("charset %q", charset)
	}
	if err := d.Decode(&fb); err != nil {
		return nil, fmt.Errorf("reports: the report is not feedback XML: %w", err)
	}
	m, p := fb.Metadata, fb.Policy
	begin, err1 := strconv.ParseInt(strings.TrimSpace(m.DateRange.Begin), 10, 64)
	end, err2 := strconv.ParseInt(strings.TrimSpace(m.DateRange.End), 10, 64)
	s := &Summary{
		OrgName: clean(m.OrgName), Email: clean(m.Email), ReportID: clean(m.ReportID),
		Begin: time.Unix(begin, 0).UTC(), End: time.Unix(end, 0).UTC(),
		Domain: domain(clean(p.Domain)), Policy: lower(clean(p.P)),
	}
	switch {
	case s.OrgName == "" || s.ReportID == "":
		return nil, errors.New("reports: the report has no org_name or report_id")
	case s.Domain == "":
		return nil, errors.New("reports: the report names no policy domain")
	case err1 != nil || err2 != nil || begin < 0 || end < begin:
		return nil, fmt.Errorf("reports: bad date_range %q–%q", m.DateRange.Begin, m.DateRange.End)
	}
	type key struct{ ip, from, disp, dkim, spf string }
	counts := map[key]uint64{}
	var order []key // first appearance, so that equal counts keep the report's order
	for _, r := range fb.Records {
		n, err := strconv.ParseUint(strings.TrimSpace(r.Row.Count), 10, 64)
		if err != nil {
			return nil, fmt.Errorf("reports: record count %q: %w", r.Row.Count, err)
		}
		ip := clean(r.Row.SourceIP)
		if a, err := netip.ParseAddr(ip); err == nil {
			ip = a.String()
		}
		pe := r.Row.PolicyEvaluated
		k := key{ip, domain(clean(r.Identifiers.HeaderFrom)), lower(clean(pe.Disposition)), lower(clean(pe.DKIM)), lower(clean(pe.SPF))}
		if _, ok := counts[k]; !ok {
			order = append(order, k)
		}
		counts[k] += n
		s.Messages += n
	}
	slices.SortStableFunc(order, func(a, b key) int { return cmp.Compare(counts[b], counts[a]) })
	for i, k := range order {
		if i == MaxSummarySources {
			s.MoreSources = len(order) - i
			break
		}
		s.Sources = append(s.Sources, Source{IP: k.ip, Count: counts[k], HeaderFrom: k.from, Disposition: k.disp, DKIM: k.dkim, SPF: k.spf})
	}
	return s, nil
}

// clean trims and bounds one value of a received report.
func clean(s string) string { return text(strings.TrimSpace(s)) }

// ReceivedEvent is the DmarcReportReceived event that keeps s, received
// at now.
func ReceivedEvent(s *Summary, now time.Time) *evlog.Event {
	e := &evlog.DmarcReportReceived{
		Domain: s.Domain, OrgName: s.OrgName, Email: s.Email, ReportId: s.ReportID,
		BeginUnix: s.Begin.Unix(), EndUnix: s.End.Unix(), Policy: s.Policy, Messages: s.Messages,
		MoreSources: uint32(min(s.MoreSources, 1<<31)), ReceivedUnix: now.Unix(),
	}
	for _, src := range s.Sources {
		e.Sources = append(e.Sources, &evlog.DmarcReportSource{SourceIp: src.IP, Count: src.Count, HeaderFrom: src.HeaderFrom,
			Disposition: src.Disposition, Dkim: src.DKIM, Spf: src.SPF})
	}
	return &evlog.Event{Kind: &evlog.Event_DmarcReportReceived{DmarcReportReceived: e}}
}
