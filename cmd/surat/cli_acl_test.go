package main

import (
	"context"
	"errors"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
)

// aclCLI is an admin API over a real store with two users, and a
// function running `surat ARGS --server URL`.
func aclCLI(t *testing.T) (func(args ...string) result, *mailbox.Store) {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: &storeNode{s: st}, Domains: st, ACLs: st,
		Token: "tok", IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) },
		HashPassword: func(pw string) (string, error) { return "hash:" + pw, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	c, err := admin.NewClient(ts.URL, "tok", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := c.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"ann@example.org", "bob@example.org"} {
		if err := c.AddUser(ctx, u, "pw"); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	return func(args ...string) result {
		return runCLI(t, env, "", append(args, "--server", ts.URL)...)
	}, st
}

func TestCLIACL(t *testing.T) {
	cli, st := aclCLI(t)
	if r := cli("acl", "get", "ann@example.org", "Archive"); r.code != 0 || r.stdout != "ann@example.org\tlrswipkxtea\n" {
		t.Fatalf("get of an empty ACL: %+v", r)
	}
	if r := cli("acl", "set", "ann@example.org", "Archive", "Bob@Example.org", "lrs"); r.code != 0 ||
		r.stdout != "ann@example.org\tlrswipkxtea\nbob@example.org\tlrs\n" {
		t.Fatalf("set: %+v", r)
	}
	// Rights and identifiers starting with "-" are arguments, not flags.
	if r := cli("acl", "set", "ann@example.org", "Archive", "bob@example.org", "-s"); r.code != 0 {
		t.Fatalf("set -s: %+v", r)
	}
	if r := cli("acl", "set", "ann@example.org", "Archive", "-anyone", "--server-less-looking", "+p"); r.code != 2 {
		t.Fatalf("an extra argument: %+v", r)
	}
	if r := cli("acl", "set", "ann@example.org", "Archive", "-anyone", "t"); r.code != 0 {
		t.Fatalf("set a negative identifier: %+v", r)
	}
	if r := cli("acl", "set", "ann@example.org", "Archive", "anyone", "+lp"); r.code != 0 {
		t.Fatalf("set anyone: %+v", r)
	}
	want := "ann@example.org\tlrswipkxtea\nanyone\tlp\nbob@example.org\tlr\n-anyone\tt\n"
	if r := cli("acl", "get", "ann@example.org", "Archive"); r.code != 0 || r.stdout != want {
		t.Fatalf("get: %+v, want %q", r, want)
	}
	mb, err := st.MailboxByName("ann@example.org", "Archive")
	if err != nil {
		t.Fatal(err)
	}
	if rights, err := st.Rights("bob@example.org", mb.GetId()); err != nil || rights.String() != "lrp" {
		t.Fatalf("bob's rights in the store: %q, %v", rights, err)
	}
	if r := cli("acl", "del", "ann@example.org", "Archive", "-anyone"); r.code != 0 || strings.Contains(r.stdout, "-anyone") {
		t.Fatalf("del: %+v", r)
	}
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"acl", "set", "ann@example.org", "Archive", "bob@example.org", "lrq"}, 2, "unknown right"},
		{[]string{"acl", "set", "ann@example.org", "Archive", "nobody@example.org", "lr"}, 1, "no such user"},
		{[]string{"acl", "set", "ann@example.org", "Archive", "bob", "lr"}, 1, "identifier"},
		{[]string{"acl", "get", "ann@example.org", "Nope"}, 1, "no mailbox"},
		{[]string{"acl", "get", "ann@example.org"}, 2, "missing MAILBOX"},
		{[]string{"acl", "frob"}, 2, "unknown subcommand"},
	} {
		r := cli(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("%q: %+v, want exit %d and %q", tc.args, r, tc.code, tc.msg)
		}
	}
}
