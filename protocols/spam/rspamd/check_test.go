package rspamd

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/pipeline"
)

var mx = pipeline.Envelope{RemoteIP: "192.0.2.1", Helo: "mx.example.com", From: "a@example.com",
	Local: []string{"b@example.org", "c@example.org"}}

func testMessage(subject, body string) string {
	return "From: a@example.com\r\nTo: b@example.org\r\nSubject: " + subject + "\r\nMessage-ID: <1@example.com>\r\n\r\n" + body + "\r\n"
}

// fakeRspamd answers /checkv2 with a reply chosen by the test and records
// what it was sent.
type fakeRspamd struct {
	srv   *httptest.Server
	mu    sync.Mutex
	reply string
	code  int
	delay chan struct{} // when set, the handler waits on it
	got   []*http.Request
	body  []string
}

func startFake(t testing.TB) *fakeRspamd {
	f := &fakeRspamd{reply: `{"action":"no action","score":0.5,"required_score":15,"symbols":{}}`, code: 200}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			io.WriteString(w, "pong\r\n")
			return
		}
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.got, f.body = append(f.got, r), append(f.body, string(body))
		reply, code, delay := f.reply, f.code, f.delay
		f.mu.Unlock()
		if delay != nil {
			select {
			case <-delay:
			case <-r.Context().Done():
				return
			}
		}
		w.WriteHeader(code)
		io.WriteString(w, reply)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeRspamd) set(fn func(*fakeRspamd)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn(f)
}

func (f *fakeRspamd) client(t testing.TB) *Client {
	c, err := Parse(f.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func runCheck(t *testing.T, c pipeline.Check, env pipeline.Envelope, msg string, timeout time.Duration) (pipeline.Result, error) {
	t.Helper()
	ctx := context.Background()
	runs, err := pipeline.Start(ctx, []pipeline.Check{c}, env)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	if _, err := io.Copy(io.Discard, runs.Reader(strings.NewReader(msg))); err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return runs.Finish(fctx)
}

// TestParse: --rspamd takes an http or https base URL.
func TestParse(t *testing.T) {
	for _, ok := range []string{"http://127.0.0.1:11333", "https://rspamd.internal:11333/", "http://[::1]:11333"} {
		if _, err := Parse(ok); err != nil {
			t.Errorf("Parse(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "127.0.0.1:11333", "ftp://x", "http://", "http://u:p@host:1", "http://h:1/?q=1"} {
		if _, err := Parse(bad); err == nil {
			t.Errorf("Parse(%q): no error", bad)
		}
	}
}

// TestCheckSendsEnvelopeAndMessage: the message streams (chunked) with
// the envelope in rspamd's request headers.
func TestCheckSendsEnvelopeAndMessage(t *testing.T) {
	f := startFake(t)
	c := NewCheck(Config{Client: f.client(t), MTAName: "mx1.example.org"})
	if err := f.client(t).Ping(context.Background()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	msg := testMessage("hello", strings.Repeat("a line of the body\r\n", 5000))
	res, err := runCheck(t, c, mx, msg, 10*time.Second)
	if err != nil || res.Action != pipeline.Deliver {
		t.Fatalf("%+v, %v", res, err)
	}
	if v, _ := res.Fact("rspamd"); v != "no_action" {
		t.Fatalf("fact rspamd=%q", v)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r := f.got[0]
	if r.Method != "POST" || r.URL.Path != "/checkv2" || f.body[0] != msg {
		t.Fatalf("%s %s with %d bytes, want POST /checkv2 with the message", r.Method, r.URL.Path, len(f.body[0]))
	}
	if !slices.Contains(r.TransferEncoding, "chunked") {
		t.Errorf("transfer encoding %q, want chunked (streamed)", r.TransferEncoding)
	}
	h := r.Header
	if h.Get("From") != "a@example.com" || !slices.Equal(h.Values("Rcpt"), mx.Local) || h.Get("IP") != "192.0.2.1" ||
		h.Get("Helo") != "mx.example.com" || h.Get("MTA-Name") != "mx1.example.org" || h.Get("Hostname") != "" {
		t.Errorf("headers %v", h)
	}
}

// TestCheckActions: rspamd's reject is 550 5.7.1, add header is Junk.
func TestCheckActions(t *testing.T) {
	f := startFake(t)
	c := NewCheck(Config{Client: f.client(t)})
	f.set(func(f *fakeRspamd) { f.reply = rejectReply })
	res, err := runCheck(t, c, mx, testMessage("x", "y"), 10*time.Second)
	if err != nil || res.Action != pipeline.Refuse || res.Reply.Code != 550 {
		t.Fatalf("reject: %+v, %v", res, err)
	}
	f.set(func(f *fakeRspamd) { f.reply = `{"action":"add header","score":8,"required_score":15}` })
	res, err = runCheck(t, c, mx, testMessage("x", "y"), 10*time.Second)
	if err != nil || res.Action != pipeline.Junk {
		t.Fatalf("add header: %+v, %v", res, err)
	}
	sub := mx
	sub.Submission = true
	n := len(f.got)
	if res, err = runCheck(t, c, sub, testMessage("x", "y"), 10*time.Second); err != nil || res.Action != pipeline.Deliver || len(f.got) != n {
		t.Fatalf("submission was checked: %+v, %v", res, err)
	}
}

// TestCheckFailures: rspamd down, failing, answering nonsense or too
// slowly: an error (451 4.7.0 from the SMTP server), never a pass; with
// accept, a delivery marked unchecked and counted.
func TestCheckFailures(t *testing.T) {
	for _, tc := range []struct {
		name  string
		setup func(*fakeRspamd)
		why   string
	}{
		{"down", func(f *fakeRspamd) { f.srv.Close() }, "rspamd unreachable"},
		{"HTTP 500", func(f *fakeRspamd) { f.code = 500; f.reply = "oops" }, "rspamd error HTTP 500"},
		{"nonsense", func(f *fakeRspamd) { f.reply = `{"action":"maybe"}` }, "unreadable reply"},
		{"slow", func(f *fakeRspamd) { f.delay = make(chan struct{}) }, "timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, accept := range []bool{false, true} {
				f := startFake(t)
				if tc.name == "down" {
					tc.setup(f)
				} else {
					f.set(tc.setup)
				}
				c := NewCheck(Config{Client: f.client(t), AcceptUnchecked: accept})
				res, err := runCheck(t, c, mx, testMessage("x", "y"), 200*time.Millisecond)
				if !accept {
					if err == nil {
						t.Fatalf("no error: %+v", res)
					}
					if !strings.Contains(err.Error(), tc.why) {
						t.Fatalf("error %v does not say %q", err, tc.why)
					}
					continue
				}
				if err != nil || res.Action != pipeline.Deliver || string(res.Prepend) != "X-Spam-Scan: unavailable; not checked by rspamd ("+tc.why+")\r\n" {
					t.Fatalf("accept: %q %+v, %v", res.Prepend, res, err)
				}
				if n := testutil.ToFloat64(c); n != 1 {
					t.Fatalf("counter %v, want 1", n)
				}
			}
		})
	}
}
