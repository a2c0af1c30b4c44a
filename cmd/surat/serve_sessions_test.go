package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSessionGauges: /metrics reports surat_sessions for every mail
// listener serve starts, and counts a connection while it is open.
func TestSessionGauges(t *testing.T) {
	n := startServeCluster(t, 1)[0]
	metric := func(listener string) string {
		t.Helper()
		resp, err := http.Get(n.url() + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		prefix := `surat_sessions{listener="` + listener + `"} `
		for _, l := range strings.Split(string(body), "\n") {
			if v, ok := strings.CutPrefix(l, prefix); ok {
				return v
			}
		}
		t.Fatalf("/metrics has no %s", strings.TrimSpace(prefix))
		return ""
	}
	for _, l := range []string{"mx", "submission", "imap", "pop3", "pop3s", "managesieve"} {
		if v := metric(l); v != "0" {
			t.Errorf("%s: %s sessions before any connection", l, v)
		}
	}
	for _, c := range []struct{ listener, addr, greeting string }{
		{"imap", n.imap, "* OK"}, {"pop3", n.pop3, "+OK"}, {"mx", n.smtp, "220 "},
	} {
		conn, err := net.Dial("tcp", c.addr)
		if err != nil {
			t.Fatal(err)
		}
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
		if g, _ := bufio.NewReader(conn).ReadString('\n'); !strings.HasPrefix(g, c.greeting) {
			t.Fatalf("%s greeting %q", c.listener, g)
		}
		if v := metric(c.listener); v != "1" {
			t.Errorf("%s: %s sessions with one open", c.listener, v)
		}
		conn.Close()
		deadline := time.Now().Add(10 * time.Second)
		for metric(c.listener) != "0" && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if v := metric(c.listener); v != "0" {
			t.Errorf("%s: %s sessions after the connection closed", c.listener, v)
		}
	}
}
