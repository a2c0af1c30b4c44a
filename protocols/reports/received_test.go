package reports

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"compress/gzip"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// reportMessage wraps an attachment as a reporter's message does: a text
// part and the attachment, base64.
func reportMessage(from, contentType, filename string, attachment []byte) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\r\nTo: dmarc@example.org\r\nSubject: Report domain: example.org Submitter: x Report-ID: 1\r\n", from)
	b.WriteString("MIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n")
	b.WriteString("--b1\r\nContent-Type: text/plain; charset=UTF-8\r\n\r\nThis is an aggregate report.\r\n")
	fmt.Fprintf(&b, "--b1\r\nContent-Type: %s; name=\"%s\"\r\nContent-Disposition: attachment; filename=\"%s\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
		contentType, filename, filename)
	enc := base64.StdEncoding.EncodeToString(attachment)
	for len(enc) > 76 {
		b.WriteString(enc[:76] + "\r\n")
		enc = enc[76:]
	}
	b.WriteString(enc + "\r\n--b1--\r\n")
	return []byte(b.String())
}

func zipOf(t testing.TB, name string, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	zw.RegisterCompressor(zip.Deflate, func(w io.Writer) (io.WriteCloser, error) { return flate.NewWriter(w, flate.BestSpeed) })
	w, err := zw.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(data)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gzipOf(t testing.TB, data []byte) []byte {
	t.Helper()
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestSpeed)
	zw.Write(data)
	zw.Close()
	return b.Bytes()
}

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Google sends its reports zipped (application/zip), Microsoft gzipped
// (application/gzip), as attachments named per RFC 7489 §7.2.1.1.
func TestParseAggregateGoogleZip(t *testing.T) {
	msg := reportMessage("noreply-dmarc-support@google.com", "application/zip",
		"google.com!example.org!1764460800!1764547199.zip", zipOf(t, "google.com!example.org!1764460800!1764547199.xml", fixture(t, "google.xml")))
	s, err := ParseAggregate(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if s.OrgName != "google.com" || s.ReportID != "9391651994964116463" || s.Domain != "example.org" || s.Policy != "quarantine" ||
		!s.Begin.Equal(time.Unix(1764460800, 0)) || !s.End.Equal(time.Unix(1764547199, 0)) || s.Messages != 16 {
		t.Fatalf("summary %+v", s)
	}
	want := []Source{
		{IP: "198.51.100.25", Count: 12, HeaderFrom: "example.org", Disposition: "none", DKIM: "pass", SPF: "pass"},
		{IP: "203.0.113.9", Count: 3, HeaderFrom: "example.org", Disposition: "quarantine", DKIM: "fail", SPF: "fail"},
		{IP: "2001:db8::25", Count: 1, HeaderFrom: "example.org", Disposition: "none", DKIM: "pass", SPF: "fail"},
	}
	if fmt.Sprint(s.Sources) != fmt.Sprint(want) {
		t.Fatalf("sources\n got %v\nwant %v", s.Sources, want)
	}
}

func TestParseAggregateMicrosoftGzip(t *testing.T) {
	msg := reportMessage("dmarcreport@microsoft.com", "application/gzip",
		"enterprise.protection.outlook.com!example.org!1764460800!1764547200.xml.gz", gzipOf(t, fixture(t, "microsoft.xml")))
	s, err := ParseAggregate(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	// The two records differ only in envelope_to: one source row.
	if s.OrgName != "Enterprise Outlook" || s.Email != "dmarcreport@microsoft.com" || s.Messages != 6 ||
		len(s.Sources) != 1 || s.Sources[0].Count != 6 || s.Sources[0].DKIM != "pass" {
		t.Fatalf("summary %+v", s)
	}
}

func TestParseAggregatePlainXMLAndBareBody(t *testing.T) {
	msg := reportMessage("r@reporter.test", "text/xml", "reporter.test!example.org!1!2.xml", fixture(t, "microsoft.xml"))
	if s, err := ParseAggregate(bytes.NewReader(msg)); err != nil || s.Messages != 6 {
		t.Fatalf("plain XML attachment: %+v %v", s, err)
	}
	// A report whose whole body is the gzip (no multipart).
	bare := "From: r@reporter.test\r\nContent-Type: application/gzip\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(gzipOf(t, fixture(t, "google.xml"))) + "\r\n"
	if s, err := ParseAggregate(strings.NewReader(bare)); err != nil || s.Messages != 16 {
		t.Fatalf("bare gzip body: %+v %v", s, err)
	}
}

func TestParseAggregateRefusesWhatIsNotAReport(t *testing.T) {
	for name, msg := range map[string]string{
		"text only":  "From: a@b.test\r\nSubject: hi\r\n\r\nHello <b>there</b>\r\n",
		"html":       "From: a@b.test\r\nContent-Type: text/html\r\n\r\n<html><body>hi</body></html>\r\n",
		"pdf":        string(reportMessage("a@b.test", "application/pdf", "x.pdf", []byte("%PDF-1.4"))),
		"not xml":    string(reportMessage("a@b.test", "application/gzip", "x.xml.gz", gzipOf(t, []byte("<html></html>")))),
		"no id":      string(reportMessage("a@b.test", "text/xml", "x.xml", []byte("<feedback><report_metadata><org_name>x</org_name></report_metadata><policy_published><domain>example.org</domain></policy_published></feedback>"))),
		"bad count":  string(reportMessage("a@b.test", "text/xml", "x.xml", bytes.Replace(fixture(t, "google.xml"), []byte("<count>12"), []byte("<count>twelve"), 1))),
		"bad range":  string(reportMessage("a@b.test", "text/xml", "x.xml", bytes.Replace(fixture(t, "google.xml"), []byte("<begin>1764460800"), []byte("<begin>1864460800"), 1))),
		"broken zip": string(reportMessage("a@b.test", "application/zip", "x.zip", []byte("PK\x03\x04garbage"))),
	} {
		s, err := ParseAggregate(strings.NewReader(msg))
		if err == nil {
			t.Errorf("%s: parsed as a report: %+v", name, s)
		}
	}
	if _, err := ParseAggregate(strings.NewReader("From: a@b.test\r\n\r\nhello\r\n")); !errors.Is(err, ErrNotAReport) {
		t.Errorf("plain mail: %v, want ErrNotAReport", err)
	}
}

// TestParseAggregateRefusesZipBombs: an archive that unpacks past the
// bound is refused, whether its header says so or lies about it.
func TestParseAggregateRefusesZipBombs(t *testing.T) {
	huge := bytes.Repeat([]byte(" "), MaxReportXML+1) // compresses to ~32 KiB
	honest := zipOf(t, "bomb.xml", append([]byte("<feedback>"), huge...))
	if _, err := ParseAggregate(bytes.NewReader(reportMessage("a@b.test", "application/zip", "bomb.zip", honest))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("zip bomb: %v, want ErrTooLarge", err)
	}
	// The same archive with its central directory claiming a small size.
	lying := bytes.Clone(honest)
	i := bytes.LastIndex(lying, []byte("PK\x01\x02")) // central directory header
	if i < 0 {
		t.Fatal("no central directory")
	}
	copy(lying[i+24:i+28], []byte{0x10, 0, 0, 0}) // uncompressed size: 16
	_, err := ParseAggregate(bytes.NewReader(reportMessage("a@b.test", "application/zip", "bomb.zip", lying)))
	if err == nil {
		t.Fatal("a zip lying about its size was read")
	}
	gz := gzipOf(t, append([]byte("<feedback>"), huge...))
	if _, err := ParseAggregate(bytes.NewReader(reportMessage("a@b.test", "application/gzip", "bomb.xml.gz", gz))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("gzip bomb: %v, want ErrTooLarge", err)
	}
	many := &bytes.Buffer{}
	zw := zip.NewWriter(many)
	for i := range maxZipEntries + 1 {
		w, _ := zw.Create(fmt.Sprintf("%d.xml", i))
		w.Write([]byte("<feedback/>"))
	}
	zw.Close()
	if _, err := ParseAggregate(bytes.NewReader(reportMessage("a@b.test", "application/zip", "many.zip", many.Bytes()))); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("zip of many files: %v, want ErrTooLarge", err)
	}
}

func TestParseAggregateBoundsSources(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<feedback><report_metadata><org_name>big</org_name><email>x@big.test</email><report_id>1</report_id>` +
		`<date_range><begin>1</begin><end>2</end></date_range></report_metadata><policy_published><domain>Example.ORG</domain><p>none</p></policy_published>`)
	for i := range MaxSummarySources + 5 {
		fmt.Fprintf(&b, `<record><row><source_ip>10.0.%d.%d</source_ip><count>%d</count><policy_evaluated><disposition>none</disposition><dkim>pass</dkim><spf>pass</spf></policy_evaluated></row><identifiers><header_from>example.org</header_from></identifiers><auth_results><spf><domain>x</domain><result>pass</result></spf></auth_results></record>`,
			i/256, i%256, i+1)
	}
	b.WriteString(`</feedback>`)
	s, err := ParseAggregate(bytes.NewReader(reportMessage("x@big.test", "text/xml", "r.xml", []byte(b.String()))))
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Sources) != MaxSummarySources || s.MoreSources != 5 || s.Sources[0].Count != MaxSummarySources+5 || s.Domain != "example.org" {
		t.Fatalf("%d sources, %d more, first %+v, domain %q", len(s.Sources), s.MoreSources, s.Sources[0], s.Domain)
	}
	ev := ReceivedEvent(s, time.Unix(1000, 0)).GetDmarcReportReceived()
	if ev.GetDomain() != "example.org" || ev.GetMoreSources() != 5 || len(ev.GetSources()) != MaxSummarySources || ev.GetReceivedUnix() != 1000 {
		t.Fatalf("event %v", ev)
	}
}

// DMARCbis reports (draft-ietf-dmarc-aggregate-reporting) carry a
// namespace and new elements; they read the same.
func TestParseAggregateDMARCbisNamespace(t *testing.T) {
	xmlData := bytes.Replace(fixture(t, "google.xml"), []byte("<feedback>"),
		[]byte(`<feedback xmlns="urn:ietf:params:xml:ns:dmarc-2.0"><version>1.0</version>`), 1)
	xmlData = bytes.Replace(xmlData, []byte("<policy_published>"), []byte("<policy_published><discovery_method>treewalk</discovery_method>"), 1)
	s, err := ParseAggregate(bytes.NewReader(reportMessage("a@b.test", "application/gzip", "r.xml.gz", gzipOf(t, xmlData))))
	if err != nil || s.Domain != "example.org" || s.Messages != 16 {
		t.Fatalf("%+v %v", s, err)
	}
}

func TestIsReportSubject(t *testing.T) {
	for subj, want := range map[string]bool{
		"Report domain: example.org Submitter: google.com Report-ID: 9391651994964116463":                    true,
		"Report Domain: example.org Submitter: protection.outlook.com Report-ID: <5f2c7a3e0b4d4c1e9a8b6d2f>": true,
		"Re: Report domain: our numbers":  false,
		"Quarterly report domain figures": false,
	} {
		if IsReportSubject(subj) != want {
			t.Errorf("%q: want %v", subj, want)
		}
	}
}
