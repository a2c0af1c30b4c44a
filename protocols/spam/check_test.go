package spam

import (
	"context"
	"errors"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// fakeClassifier gives each user a fixed probability and records the
// tokens it was asked about.
type fakeClassifier struct {
	mu     sync.Mutex
	p      map[string]float64
	err    error
	tokens []uint64
}

func (f *fakeClassifier) Classify(user string, tokens []uint64) (bayes.Verdict, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokens = tokens
	if f.err != nil {
		return bayes.Verdict{}, f.err
	}
	return bayes.Verdict{Probability: f.p[user]}, nil
}

// junkCheck junks every message (a DMARC quarantine, say).
type junkCheck struct{}

func (junkCheck) Name() string { return "junk" }
func (junkCheck) Start(context.Context, pipeline.Envelope) (pipeline.Run, error) {
	return junkRun{}, nil
}

type junkRun struct{}

func (junkRun) Write(p []byte) (int, error) { return len(p), nil }
func (junkRun) Abort()                      {}
func (junkRun) Finish(context.Context) (pipeline.Outcome, error) {
	return pipeline.Outcome{Action: pipeline.Junk, Facts: []string{"spf=pass", "dmarc=fail"}}, nil
}

const message = "X-Spam-Status: No, score=-100 (the sender says so)\r\nFrom: a@example.org\r\nSubject: hello\r\n\r\nHello there.\r\n"

// runChecks runs checks over message for env and returns what would be
// stored and the result.
func runChecks(t *testing.T, checks []pipeline.Check, env pipeline.Envelope) (string, pipeline.Result, error) {
	t.Helper()
	runs, err := pipeline.Start(context.Background(), checks, env)
	if err != nil {
		t.Fatal(err)
	}
	stored, err := io.ReadAll(runs.Reader(strings.NewReader(message)))
	if err != nil {
		t.Fatal(err)
	}
	res, err := runs.Finish(context.Background())
	return string(stored), res, err
}

func mx(rcpts ...string) pipeline.Envelope {
	return pipeline.Envelope{RemoteIP: "192.0.2.1", Helo: "mail.example.org", From: "a@example.org", Local: rcpts}
}

func TestCheckVerdicts(t *testing.T) {
	cl := &fakeClassifier{p: map[string]float64{"ham@x.test": 0.02, "spam@x.test": 0.995, "ham2@x.test": 0.02}}
	check := &Check{Classifier: cl, Threshold: 0.9}

	stored, res, err := runChecks(t, []pipeline.Check{check}, mx("ham@x.test", "ham2@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(stored, "X-Spam-Status") {
		t.Errorf("the sender's X-Spam-Status was stored: %q", stored)
	}
	want := "X-Spam-Status: No, score=0.20 required=9.00 tests=BAYES_05\r\n"
	if string(res.Prepend) != want || res.Action != pipeline.Deliver || len(res.Recipients) != 0 {
		t.Errorf("ham: prepend %q action %v recipients %v, want %q", res.Prepend, res.Action, res.Recipients, want)
	}

	_, res, err = runChecks(t, []pipeline.Check{check}, mx("spam@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res.Prepend), "X-Spam-Status: Yes, score=9.95 required=9.00 tests=BAYES_99") || res.Action != pipeline.Junk {
		t.Errorf("spam: prepend %q action %v", res.Prepend, res.Action)
	}

	// Verdicts differ: each recipient gets its own field and action.
	_, res, err = runChecks(t, []pipeline.Check{check}, mx("ham@x.test", "spam@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Prepend) != 0 || res.Action != pipeline.Deliver {
		t.Errorf("mixed: whole-message prepend %q action %v", res.Prepend, res.Action)
	}
	for rcpt, want := range map[string]string{"ham@x.test": "No", "spam@x.test": "Yes"} {
		prepend, action := res.For(rcpt)
		if strings.Count(string(prepend), "X-Spam-Status:") != 1 || !strings.HasPrefix(string(prepend), "X-Spam-Status: "+want) ||
			(action == pipeline.Junk) != (want == "Yes") {
			t.Errorf("mixed, %s: %q %v", rcpt, prepend, action)
		}
	}
}

func TestCheckReflectsEarlierJunk(t *testing.T) {
	cl := &fakeClassifier{p: map[string]float64{"ham@x.test": 0.02}}
	_, res, err := runChecks(t, []pipeline.Check{junkCheck{}, &Check{Classifier: cl}}, mx("ham@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(res.Prepend), "X-Spam-Status: Yes, score=0.20 required=9.00 tests=BAYES_05,JUNKED_BEFORE") || res.Action != pipeline.Junk {
		t.Errorf("prepend %q action %v", res.Prepend, res.Action)
	}
	// The earlier check's facts are features.
	for _, f := range []string{"auth:spf=pass", "auth:dmarc=fail"} {
		tok := bayes.NewTokenizer()
		tok.AddFeature(f)
		for _, h := range tok.Tokens() {
			if !slices.Contains(cl.tokens, h) {
				t.Errorf("feature %s not among the tokens classified", f)
			}
		}
	}
}

func TestCheckSkipsAndFails(t *testing.T) {
	cl := &fakeClassifier{}
	check := &Check{Classifier: cl}
	env := mx("a@x.test")
	env.Submission = true
	if r, err := check.Start(context.Background(), env); r != nil || err != nil {
		t.Errorf("submission: run %v, err %v", r, err)
	}
	if r, err := check.Start(context.Background(), mx()); r != nil || err != nil {
		t.Errorf("no local recipient: run %v, err %v", r, err)
	}
	cl.err = errors.New("store closed")
	if _, _, err := runChecks(t, []pipeline.Check{check}, mx("a@x.test")); err == nil {
		t.Error("a classifier failure let the message through")
	}
}

func TestClientFeatures(t *testing.T) {
	srv := dnstest.Start(t)
	res, err := dns.NewWithOptions(srv.Addr(), dns.Options{CacheEntries: -1})
	if err != nil {
		t.Fatal(err)
	}
	srv.Add("192.0.2.1", "PTR", "mail.good.test.")
	srv.Add("mail.good.test", "A", "192.0.2.1")
	srv.Add("192.0.2.2", "PTR", "forged.test.")
	srv.Add("forged.test", "A", "198.51.100.9")
	srv.Add("other.test", "A", "198.51.100.9")
	srv.ServFail("3.2.0.192.in-addr.arpa")
	ctx := context.Background()
	for _, c := range []struct {
		ip, helo string
		want     []string
	}{
		{"192.0.2.1", "mail.good.test", []string{"ptr:confirmed", "helo:match"}},
		{"192.0.2.2", "other.test", []string{"ptr:unconfirmed", "helo:mismatch"}},
		{"192.0.2.9", "nowhere.test", []string{"ptr:none", "helo:unresolved"}},
		{"192.0.2.3", "[192.0.2.3]", []string{"helo:literal"}}, // PTR temporary failure: no feature
		{"not an ip", "x", nil},
	} {
		if got := clientFeatures(ctx, res, c.ip, c.helo); !slices.Equal(got, c.want) {
			t.Errorf("%s %s: got %v, want %v", c.ip, c.helo, got, c.want)
		}
	}

	// Through the check: the field names the DNS tests.
	cl := &fakeClassifier{p: map[string]float64{"a@x.test": 0.5}}
	env := mx("a@x.test")
	env.RemoteIP, env.Helo = "192.0.2.9", "nowhere.test"
	_, out, err := runChecks(t, []pipeline.Check{&Check{Classifier: cl, Resolver: res}}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out.Prepend), "tests=BAYES_50,RDNS_NONE,HELO_UNRESOLVED") {
		t.Errorf("field %q does not name the DNS tests", out.Prepend)
	}
}
