package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/bans"
	"github.com/surat-mail/surat/protocols/managesieve"
)

// TestBansRefuseOnEveryNode: a ban added through one node's admin API
// refuses the client at connect on SMTP, submission, IMAP and POP3 of
// every other node (real sockets, the real serve wiring); a client from
// another address is served meanwhile, and lifting the ban lets the
// client in again.
func TestBansRefuseOnEveryNode(t *testing.T) {
	nodes := startServeCluster(t, 3)
	type port struct {
		name, addr, greeting, refusal string
		implicit                      bool
	}
	ports := func(n *serveNode) []port {
		return []port{
			{"smtp", n.smtp, "220 ", bans.RefusalSMTP, false},
			{"submission", n.submission, "220 ", bans.RefusalSMTP, false},
			{"imap", n.imap, "* OK", bans.RefusalIMAP, false},
			{"pop3", n.pop3, "+OK", bans.RefusalPOP3, false},
			{"imaps", n.imaps, "* OK", "", true},
			{"pop3s", n.pop3s, "+OK", "", true},
			{"managesieve", n.managesieve, `"IMPLEMENTATION"`, managesieve.RefusalBanned, false},
		}
	}
	for _, n := range nodes[1:] {
		for _, p := range ports(n) {
			if got := greetingLine(t, "127.0.0.1", p.addr, p.implicit); !strings.HasPrefix(got, p.greeting) {
				t.Fatalf("%s %s before the ban: %q", n.id, p.name, got)
			}
		}
	}
	if r := runCLI(t, nil, "", "ban", "add", "127.0.0.1", "--reason", "test", "--server", nodes[0].url()); r.code != 0 {
		t.Fatalf("ban add through n1: %+v", r)
	}
	for _, n := range nodes[1:] {
		for _, p := range ports(n) {
			waitUntil(t, n.id+" "+p.name+" refuses", func() bool {
				return greetingLine(t, "127.0.0.1", p.addr, p.implicit) == p.refusal
			})
			if got := greetingLine(t, "127.0.0.2", p.addr, p.implicit); !strings.HasPrefix(got, p.greeting) {
				t.Fatalf("%s %s: an unbanned client got %q", n.id, p.name, got)
			}
		}
	}
	resp, err := http.Get(nodes[1].url() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, l := range []string{"smtp", "submission", "imap", "pop3", "imaps", "pop3s", "managesieve"} {
		if !strings.Contains(string(metrics), `surat_banned_connections_total{listener="`+l+`"}`) {
			t.Errorf("n2's /metrics lacks the refusals on %s", l)
		}
	}
	r := runCLI(t, nil, "", "ban", "list", "--server", nodes[2].url())
	if r.code != 0 || !strings.HasPrefix(r.stdout, "127.0.0.1/32 ") || !strings.HasSuffix(r.stdout, " test\n") {
		t.Fatalf("ban list on n3: %+v", r)
	}
	if r := runCLI(t, nil, "", "ban", "del", "127.0.0.1", "--server", nodes[1].url()); r.code != 0 {
		t.Fatalf("ban del through n2: %+v", r)
	}
	for _, n := range nodes {
		for _, p := range ports(n) {
			waitUntil(t, n.id+" "+p.name+" serves again", func() bool {
				return strings.HasPrefix(greetingLine(t, "127.0.0.1", p.addr, p.implicit), p.greeting)
			})
		}
	}
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting: %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
