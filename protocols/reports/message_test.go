package reports

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-message"
)

// A report's header fields are folded to 78 octets (RFC 5322 §2.1.1) and
// read back unchanged: the RFC 7489 §7.2.1.1 Subject alone passes 78.
func TestReportMailFolded(t *testing.T) {
	host := "mx1.reporting.example.test"
	m := reportMail{
		From:           "noreply-dmarc@example.org",
		To:             []string{"dmarc-aggregate@sender.example.test", "agg@reports.example.test", "third@example.test"},
		Subject:        "Report Domain: sender.example.test Submitter: " + host + " Report-ID: <20251202.dmarc.sender.example.test@" + host + ">",
		MessageID:      "20251202.dmarc.sender.example.test@" + host,
		Date:           time.Unix(1764633600, 0).UTC(),
		Extra:          []string{"TLS-Report-Domain: sender.example.test", "TLS-Report-Submitter: " + host},
		ContentType:    `multipart/report; report-type="tlsrpt"`,
		Text:           "report",
		AttachmentType: "application/tlsrpt+gzip",
		Filename:       "r.json.gz",
		Attachment:     []byte("x"),
	}
	raw := m.bytes()
	head, _, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
	for _, l := range strings.Split(string(head), "\r\n") {
		if len(l) > 78 {
			t.Errorf("header line of %d octets: %q", len(l), l)
		}
	}
	e, err := message.Read(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if got := e.Header.Get("Subject"); got != m.Subject {
		t.Errorf("Subject %q, want %q", got, m.Subject)
	}
	if got := e.Header.Get("To"); got != "<dmarc-aggregate@sender.example.test>, <agg@reports.example.test>, <third@example.test>" {
		t.Errorf("To %q", got)
	}
	if got := e.Header.Get("TLS-Report-Submitter"); got != host {
		t.Errorf("TLS-Report-Submitter %q", got)
	}
	if ct, p, err := e.Header.ContentType(); err != nil || ct != "multipart/report" || p["report-type"] != "tlsrpt" || p["boundary"] == "" {
		t.Errorf("Content-Type %q %v %v", ct, p, err)
	}
}
