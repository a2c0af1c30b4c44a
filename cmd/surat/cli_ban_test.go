package main

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
)

func TestCLIBan(t *testing.T) {
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: &storeNode{s: st}, Bans: st, Token: "tok",
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	defer ts.Close()
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	ban := func(args ...string) result {
		return runCLI(t, env, "", append(append([]string{"ban"}, args...), "--server", ts.URL)...)
	}

	if r := ban("list"); r.code != 0 || r.stdout != "" {
		t.Fatalf("empty ban list: %+v", r)
	}
	start := time.Now()
	r := ban("add", "192.0.2.7", "--reason", "password guessing")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "192.0.2.7/32 ") || !strings.HasSuffix(r.stdout, " password guessing\n") {
		t.Fatalf("ban add: %+v", r)
	}
	if r := ban("add", "2001:db8:1:2::1", "--for", "0"); r.code != 0 {
		t.Fatalf("ban add --for 0: %+v", r)
	}
	if r := ban("add", "--for", "90m", "198.51.100.0/24"); r.code != 0 {
		t.Fatalf("ban add --for 90m: %+v", r)
	}
	if !st.Banned(netip.MustParseAddr("192.0.2.7"), start.Add(23*time.Hour)) ||
		st.Banned(netip.MustParseAddr("192.0.2.7"), start.Add(25*time.Hour)) {
		t.Fatal("ban add without --for does not last 24h")
	}
	if !st.Banned(netip.MustParseAddr("198.51.100.1"), start.Add(89*time.Minute)) ||
		st.Banned(netip.MustParseAddr("198.51.100.1"), start.Add(92*time.Minute)) {
		t.Fatal("--for 90m not applied")
	}

	r = ban("list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if r.code != 0 || len(lines) != 3 {
		t.Fatalf("ban list: %+v", r)
	}
	if f := strings.Fields(lines[0]); len(f) != 4 || f[0] != "192.0.2.7/32" || f[2] != "password" {
		t.Errorf("line 1 %q", lines[0])
	} else if exp, err := time.Parse(time.RFC3339, f[1]); err != nil || exp.Before(start.Add(24*time.Hour-time.Second)) {
		t.Errorf("line 1 expiry %q: %v", f[1], err)
	}
	if !strings.HasPrefix(lines[1], "198.51.100.0/24 ") || lines[2] != "2001:db8:1:2::/64 never" {
		t.Errorf("lines %q", lines)
	}

	if r := ban("del", "198.51.100.0/24"); r.code != 0 {
		t.Fatalf("ban del: %+v", r)
	}
	if st.Banned(netip.MustParseAddr("198.51.100.1"), time.Now()) {
		t.Fatal("ban del left the ban")
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"del", "198.51.100.0/24"}, 1, "no such ban: 198.51.100.0/24"},
		{[]string{"add", "mail.example.org"}, 1, "not an IP address"},
		{[]string{"add", "192.0.2.1", "--for", "-1h"}, 2, "--for"},
		{[]string{"add", "192.0.2.1", "--for", "soon"}, 2, "invalid value"},
		{[]string{"add"}, 2, "missing ADDR|CIDR"},
		{[]string{"frob"}, 2, "unknown subcommand"},
	} {
		r := ban(tc.args...)
		if r.code != tc.code {
			t.Fatalf("%v: exit %d, want %d: %+v", tc.args, r.code, tc.code, r)
		}
		if line := oneLineErr(t, r); !strings.Contains(line, tc.want) {
			t.Errorf("%v: %q lacks %q", tc.args, line, tc.want)
		}
	}
	if r := runCLI(t, nil, "", "ban", "list", "--server", ts.URL); r.code != 1 || !strings.Contains(oneLineErr(t, r), "unauthorized") {
		t.Fatalf("ban list without the token: %+v", r)
	}
}
