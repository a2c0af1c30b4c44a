package mailauth

import (
	"context"
	"io"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// runPipeline streams msg through the pipeline with the mailauth Check as
// the SMTP server does, and returns the stored stream and the result.
func runPipeline(t *testing.T, ck pipeline.Check, env pipeline.Envelope, msg string) (string, pipeline.Result) {
	t.Helper()
	ctx := context.Background()
	rs, err := pipeline.Start(ctx, []pipeline.Check{ck}, env)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(rs.Reader(strings.NewReader(msg)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := rs.Finish(ctx)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return string(stored), res
}

func TestPipelineCheck(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("d.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
	srv.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=reject")
	srv.Add("q.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
	srv.Add("_dmarc.q.test", "TXT", "v=DMARC1; p=quarantine")
	var events int
	ck := Check{Checker: newChecker(t, r, nil), Events: func(v *Verdict) []*evlog.Event {
		events += len(v.Records)
		return nil
	}}
	forged := "Authentication-Results: " + testHost + "; dmarc=pass header.from=forged.test\r\n"
	env := func(ip, from string) pipeline.Envelope {
		return pipeline.Envelope{RemoteIP: ip, Helo: "client.test", From: from, Local: []string{"alice@surat.test", "bob@surat.test"}}
	}

	t.Run("deliver", func(t *testing.T) {
		stored, res := runPipeline(t, ck, env("192.0.2.1", "b@d.test"), forged+message("a@d.test"))
		if res.Action != pipeline.Deliver || res.Reply != nil {
			t.Fatalf("%+v", res)
		}
		if stored != message("a@d.test") {
			t.Errorf("stored %q: the forged field should be gone and nothing else", stored)
		}
		if !strings.HasPrefix(string(res.Prepend), "Authentication-Results: "+testHost+";\r\n\tspf=pass") || !strings.HasSuffix(string(res.Prepend), "\r\n") {
			t.Errorf("prepend %q", res.Prepend)
		}
		if len(res.Notes) != 1 || res.Notes[0] != "spf=pass dkim=none dmarc=pass" {
			t.Errorf("notes %q", res.Notes)
		}
	})
	t.Run("junk", func(t *testing.T) {
		_, res := runPipeline(t, ck, env(badIP, "b@q.test"), message("a@q.test"))
		if res.Action != pipeline.Junk {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("refuse", func(t *testing.T) {
		_, res := runPipeline(t, ck, env(badIP, "b@d.test"), message("a@d.test"))
		if res.Action != pipeline.Refuse || res.Reply == nil || res.Reply.Code != 550 || res.Reply.Enhanced != [3]int{5, 7, 1} {
			t.Fatalf("%+v", res)
		}
	})
	t.Run("tempfail", func(t *testing.T) {
		srv.ServFail("_dmarc.t.test")
		_, res := runPipeline(t, ck, env(badIP, "b@t.test"), message("a@t.test"))
		if res.Action != pipeline.Refuse || res.Reply == nil || res.Reply.Code != 451 {
			t.Fatalf("%+v", res)
		}
	})
	if events != 4 {
		t.Errorf("%d report records, want 4", events)
	}
	t.Run("submission is not checked", func(t *testing.T) {
		e := env("192.0.2.1", "b@d.test")
		e.Submission = true
		if run, err := ck.Start(context.Background(), e); run != nil || err != nil {
			t.Fatalf("%v, %v", run, err)
		}
	})
}
