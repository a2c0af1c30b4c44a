package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/smtp"
	"github.com/surat-mail/surat/protocols/spam/clamd"
	"github.com/surat-mail/surat/protocols/spam/rspamd"
)

// TestParseServeScanners: --clamd, --rspamd and their failure policies.
func TestParseServeScanners(t *testing.T) {
	data := filepath.Join(t.TempDir(), "n1", "data")
	c, err := parseServe(baseArgs(data), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Clamd != nil || c.Rspamd != nil || c.ClamdAccept || c.RspamdAccept {
		t.Fatalf("scanners on by default: %+v %+v", c.Clamd, c.Rspamd)
	}
	c, err = parseServe(with(baseArgs(data), "--clamd", "unix:/run/clamav/clamd.ctl", "--clamd-failure", "accept",
		"--rspamd", "http://127.0.0.1:11333", "--rspamd-failure", "tempfail"), envOf(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Clamd.String() != "unix:/run/clamav/clamd.ctl" || !c.ClamdAccept || c.Rspamd.String() != "http://127.0.0.1:11333" || c.RspamdAccept {
		t.Fatalf("parsed %+v accept=%v %+v accept=%v", c.Clamd, c.ClamdAccept, c.Rspamd, c.RspamdAccept)
	}
	for _, bad := range [][]string{
		{"--clamd", "clamd.sock"}, {"--clamd", "unix:"}, {"--clamd-failure", "pass"},
		{"--rspamd", "127.0.0.1:11333"}, {"--rspamd-failure", "ignore"},
	} {
		if _, err := parseServe(with(baseArgs(data), bad...), envOf(nil)); err == nil {
			t.Errorf("%v accepted", bad)
		}
	}
}

const eicarString = `X5O!P%@AP[4\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*`

// miniClamd answers INSTREAM (clamd(8)) on a unix socket: FOUND for
// EICAR. Stop and start it to make clamd go away and come back.
type miniClamd struct {
	path string
	mu   sync.Mutex
	ln   net.Listener
	wg   sync.WaitGroup
}

func (m *miniClamd) start(t *testing.T) {
	t.Helper()
	ln, err := net.Listen("unix", m.path)
	if err != nil {
		t.Fatal(err)
	}
	m.mu.Lock()
	m.ln = ln
	m.mu.Unlock()
	m.wg.Add(1)
	go func() {
		defer m.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go m.handle(c)
		}
	}()
}

func (m *miniClamd) stop() {
	m.mu.Lock()
	ln := m.ln
	m.ln = nil
	m.mu.Unlock()
	if ln != nil {
		ln.Close()
		m.wg.Wait()
	}
}

func (m *miniClamd) handle(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	cmd, err := r.ReadString(0)
	if err != nil {
		return
	}
	switch cmd {
	case "zPING\x00":
		c.Write([]byte("PONG\x00"))
	case "zINSTREAM\x00":
		var data []byte
		for {
			var n uint32
			if binary.Read(r, binary.BigEndian, &n) != nil {
				return
			}
			if n == 0 {
				break
			}
			chunk := make([]byte, n)
			if _, err := io.ReadFull(r, chunk); err != nil {
				return
			}
			data = append(data, chunk...)
		}
		if bytes.Contains(data, []byte(eicarString)) {
			c.Write([]byte("stream: Eicar-Test-Signature FOUND\x00"))
		} else {
			c.Write([]byte("stream: OK\x00"))
		}
	}
}

// TestServeClamd: through the real serve wiring, EICAR gets 554 5.7.1
// after DATA; with clamd gone, a message gets 451 (never 250); once it is
// back, mail is accepted again.
func TestServeClamd(t *testing.T) {
	dir, err := os.MkdirTemp("", "clamd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	av := &miniClamd{path: filepath.Join(dir, "clamd.sock")}
	av.start(t)
	t.Cleanup(av.stop)
	nodes := startServeCluster(t, 1, "--clamd", "unix:"+av.path)
	n := nodes[0]
	if r := runCLI(t, nil, "pw-bob-1\n", "user", "add", "bob@example.test", "--password-stdin", "--server", n.url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	send := func(body string) error {
		cl, err := gosmtp.Dial(n.smtp)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		msg := "From: a@remote.test\r\nTo: bob@example.test\r\nSubject: scan\r\n\r\n" + body + "\r\n"
		return cl.SendMail("a@remote.test", []string{"bob@example.test"}, strings.NewReader(msg))
	}
	code := func(err error) int {
		var se *gosmtp.SMTPError
		if errors.As(err, &se) {
			return se.Code
		}
		if err != nil {
			t.Fatalf("not an SMTP reply: %v", err)
		}
		return 250
	}
	if err := send("clean"); err != nil {
		t.Fatalf("clean message: %v", err)
	}
	err = send("The file follows.\r\n" + eicarString)
	var se *gosmtp.SMTPError
	if !errors.As(err, &se) || se.Code != 554 || se.EnhancedCode != (gosmtp.EnhancedCode{5, 7, 1}) || !strings.Contains(se.Message, "Eicar-Test-Signature") {
		t.Fatalf("EICAR: %v, want 554 5.7.1 naming the signature", err)
	}
	av.stop()
	if c := code(send("while clamd is down")); c/100 != 4 {
		t.Fatalf("clamd down: %d, want 4xx", c)
	}
	av.start(t)
	deadline := time.Now().Add(10 * time.Second)
	for c := code(send("clamd is back")); c != 250; c = code(send("clamd is back")) {
		if time.Now().After(deadline) {
			t.Fatalf("clamd back: still %d", c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// TestServeRspamd: through the real serve wiring, rspamd's reject is 550
// 5.7.1 with its message, add header files the copy in Junk; with rspamd
// gone, a message gets 451 (never 250).
func TestServeRspamd(t *testing.T) {
	var mu sync.Mutex
	reply := `{"action":"reject","score":20,"required_score":15,"messages":{"smtp_message":"Rejected by the test's rspamd"}}`
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/ping" {
			io.WriteString(w, "pong")
			return
		}
		io.Copy(io.Discard, r.Body)
		mu.Lock()
		defer mu.Unlock()
		io.WriteString(w, reply)
	}))
	t.Cleanup(fake.Close)
	nodes := startServeCluster(t, 1, "--rspamd", fake.URL)
	n := nodes[0]
	if r := runCLI(t, nil, "pw-bob-1\n", "user", "add", "bob@example.test", "--password-stdin", "--server", n.url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	send := func(subject string) error {
		cl, err := gosmtp.Dial(n.smtp)
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		msg := "From: a@remote.test\r\nTo: bob@example.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + subject + "@remote.test>\r\n\r\nhello\r\n"
		return cl.SendMail("a@remote.test", []string{"bob@example.test"}, strings.NewReader(msg))
	}
	var se *gosmtp.SMTPError
	if err := send("r1"); !errors.As(err, &se) || se.Code != 550 || se.EnhancedCode != (gosmtp.EnhancedCode{5, 7, 1}) || se.Message != "Rejected by the test's rspamd" {
		t.Fatalf("reject: %v, want 550 5.7.1 with rspamd's message", err)
	}
	mu.Lock()
	reply = `{"action":"add header","score":8,"required_score":15}`
	mu.Unlock()
	if err := send("j1"); err != nil {
		t.Fatalf("add header: %v", err)
	}
	im, l := loginOver(t, n.imaps, true, "bob@example.test", "pw-bob-1")
	if !strings.HasPrefix(l, "a OK") {
		t.Fatalf("IMAP login: %s", l)
	}
	fmt.Fprintf(im.conn, "b STATUS Junk (MESSAGES)\r\n")
	if l := im.line(t); !strings.Contains(l, "MESSAGES 1") {
		t.Fatalf("Junk after rspamd's add header: %s", l)
	}
	fake.Close()
	if err := send("d1"); !errors.As(err, &se) || se.Code/100 != 4 {
		t.Fatalf("rspamd down: %v, want 4xx", err)
	}
}

// TestScannerMetricsRegister: clamd's and rspamd's counters share one
// name with a check label, in one registry, and are registered once.
func TestScannerMetricsRegister(t *testing.T) {
	cl, _ := clamd.Parse("127.0.0.1:1")
	rs, _ := rspamd.Parse("http://127.0.0.1:1")
	c1, c2 := clamd.NewCheck(cl, true, nil), rspamd.NewCheck(rspamd.Config{Client: rs})
	reg := prometheus.NewRegistry()
	checks := map[smtp.Kind][]pipeline.Check{smtp.MX: {c1, c2}, smtp.Submission: {c1}}
	if err := registerCheckMetrics(checks, reg); err != nil {
		t.Fatal(err)
	}
	if n, err := testutil.GatherAndCount(reg, "surat_unscanned_deliveries_total"); err != nil || n != 2 {
		t.Fatalf("%d series, %v; want 2", n, err)
	}
}
