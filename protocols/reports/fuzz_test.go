package reports

import (
	"bytes"
	"testing"
)

// FuzzParseAggregate: any message, compressed or not, gives a summary or
// an error, never a panic, and a summary within its bounds.
func FuzzParseAggregate(f *testing.F) {
	google, ms := fixture(f, "google.xml"), fixture(f, "microsoft.xml")
	f.Add(reportMessage("a@google.com", "application/zip", "r.zip", zipOf(f, "r.xml", google)))
	f.Add(reportMessage("a@microsoft.com", "application/gzip", "r.xml.gz", gzipOf(f, ms)))
	f.Add(reportMessage("a@b.test", "text/xml", "r.xml", ms))
	f.Add([]byte("From: a@b.test\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=y\r\n\r\n--y\r\n\r\n<feedback/>\r\n--y--\r\n--x--\r\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		s, err := ParseAggregate(bytes.NewReader(msg))
		if err != nil {
			return
		}
		if s.Domain == "" || s.ReportID == "" || len(s.Sources) > MaxSummarySources || s.End.Before(s.Begin) {
			t.Fatalf("summary out of bounds: %+v", s)
		}
		if ReceivedEvent(s, s.End) == nil {
			t.Fatal("no event")
		}
	})
}

// FuzzParseFeedback fuzzes the XML reader alone, where most of the
// structure is.
func FuzzParseFeedback(f *testing.F) {
	f.Add(fixture(f, "google.xml"))
	f.Add(fixture(f, "microsoft.xml"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if s, err := parseFeedback(data); err == nil && (s.Domain == "" || len(s.Sources) > MaxSummarySources) {
			t.Fatalf("summary out of bounds: %+v", s)
		}
	})
}

// FuzzParseRUA: a rua URI parses to an address or an error.
func FuzzParseRUA(f *testing.F) {
	for _, s := range []string{"mailto:a@example.com!10m", "mailto:a%40b.test", "https://x.test/", "mailto:!", "mailto:a@b!99999999999999999999t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		d, err := parseRUA(uri)
		if err == nil && d.addr.IsZero() {
			t.Fatalf("%q: no address and no error", uri)
		}
		ParseTLSRPTRecord(uri)
	})
}
