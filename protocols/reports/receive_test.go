package reports

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// receive runs ReceiveCheck on msg through the pipeline, as the MX port
// does, with ours as the local domains.
func receive(t *testing.T, msg []byte, ours ...string) pipeline.Result {
	t.Helper()
	check := ReceiveCheck{Domains: func() ([]string, error) { return ours, nil }, Now: func() time.Time { return time.Unix(1764600000, 0) }}
	rs, err := pipeline.Start(context.Background(), []pipeline.Check{check}, pipeline.Envelope{Local: []string{"dmarc@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	// A byte at a time: the Subject must be found across writes.
	r := rs.Reader(bytes.NewReader(msg))
	one := make([]byte, 1)
	for {
		if _, err := r.Read(one); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}
	res, err := rs.Finish(context.Background())
	if err != nil {
		t.Fatalf("a report check must never fail a message: %v", err)
	}
	return res
}

// TestReceiveCheckRecordsReportsOnOurDomains: a report about one of our
// domains is proposed with its delivery; one about another domain, and a
// message that is no report, add nothing; none is refused.
func TestReceiveCheckRecordsReportsOnOurDomains(t *testing.T) {
	msg := reportMessage("noreply-dmarc-support@google.com", "application/zip",
		"google.com!example.org!1764460800!1764547199.zip", zipOf(t, "google.com!example.org!1764460800!1764547199.xml", fixture(t, "google.xml")))
	res := receive(t, msg, "example.org")
	if res.Action != pipeline.Deliver || len(res.Events) != 1 {
		t.Fatalf("report on our domain: %+v", res)
	}
	got := res.Events[0].GetDmarcReportReceived()
	if got.GetDomain() != "example.org" || got.GetOrgName() != "google.com" || got.GetMessages() != 16 || got.GetReceivedUnix() != 1764600000 {
		t.Fatalf("event %v", got)
	}
	if res := receive(t, msg, "example.net"); len(res.Events) != 0 || res.Action != pipeline.Deliver {
		t.Fatalf("report on another domain: %+v", res)
	}
	plain := []byte("From: a@b.test\r\nSubject: Report domain: example.org Submitter: x\r\n\r\nno attachment\r\n")
	if res := receive(t, plain, "example.org"); len(res.Events) != 0 || res.Action != pipeline.Deliver {
		t.Fatalf("not a report: %+v", res)
	}
	other := []byte("From: a@b.test\r\nSubject: lunch\r\n\r\n" + string(bytes.Repeat([]byte("x"), 1000)) + "\r\n")
	if res := receive(t, other, "example.org"); len(res.Events) != 0 {
		t.Fatalf("ordinary message: %+v", res)
	}
}
