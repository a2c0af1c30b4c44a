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
	"github.com/surat-mail/surat/protocols/sieve"
)

// sieveCLI is an admin API over a real store with the node's Sieve store,
// a domain and a user, and a function running `surat ARGS --server URL`.
func sieveCLI(t *testing.T, check func([]byte) error) (func(stdin string, args ...string) result, *mailbox.Store) {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	node := &storeNode{s: st}
	ss, err := newSieveStore(st, node)
	if err != nil {
		t.Fatal(err)
	}
	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: node, Domains: st, Sieve: ss, CheckSieve: check,
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
	if _, err := c.AddDomain(context.Background(), "example.org"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddUser(context.Background(), "ann@example.org", "pw"); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	return func(stdin string, args ...string) result {
		return runCLI(t, env, stdin, append(args, "--server", ts.URL)...)
	}, st
}

func TestCLISievePutActivateList(t *testing.T) {
	cli, st := sieveCLI(t, nil)
	script := "require [\"fileinto\", \"mailbox\"];\r\nfileinto :create \"Cli\";\r\n"
	if r := cli(script, "sieve", "put", "ann@example.org", "cli-1"); r.code != 0 || r.stdout != "" {
		t.Fatalf("put: %+v", r)
	}
	if r := cli("keep;\r\n", "sieve", "put", "ann@example.org", "other", "--activate"); r.code != 0 {
		t.Fatalf("put --activate: %+v", r)
	}
	if r := cli("", "sieve", "list", "ann@example.org"); r.code != 0 || r.stdout != "cli-1\nother\tactive\n" {
		t.Fatalf("list: %+v", r)
	}
	if r := cli("", "sieve", "activate", "ann@example.org", "cli-1"); r.code != 0 {
		t.Fatalf("activate: %+v", r)
	}
	if r := cli("", "sieve", "list", "ann@example.org"); r.code != 0 || r.stdout != "cli-1\tactive\nother\n" {
		t.Fatalf("list after activate: %+v", r)
	}
	if sc, err := st.ActiveSieveScript("ann@example.org"); err != nil || string(sc.Source) != script {
		t.Fatalf("stored %+v, %v", sc, err)
	}
	if r := cli("", "sieve", "get", "ann@example.org", "cli-1"); r.code != 0 || r.stdout != script {
		t.Fatalf("get: %+v", r)
	}
}

func TestCLISieveDeleteDeactivate(t *testing.T) {
	cli, _ := sieveCLI(t, nil)
	cli("keep;", "sieve", "put", "ann@example.org", "a", "--activate")
	r := cli("", "sieve", "delete", "ann@example.org", "a")
	if msg := oneLineErr(t, r); !strings.Contains(msg, "active") {
		t.Fatalf("delete active: %q", msg)
	}
	if r := cli("", "sieve", "deactivate", "ann@example.org"); r.code != 0 {
		t.Fatalf("deactivate: %+v", r)
	}
	if r := cli("", "sieve", "delete", "ann@example.org", "a"); r.code != 0 {
		t.Fatalf("delete: %+v", r)
	}
	if r := cli("", "sieve", "list", "ann@example.org"); r.code != 0 || r.stdout != "" {
		t.Fatalf("empty list: %+v", r)
	}
	if msg := oneLineErr(t, cli("", "sieve", "get", "ann@example.org", "a")); !strings.Contains(msg, "no such script") {
		t.Fatalf("get deleted: %q", msg)
	}
	// The administrators' owners.
	if r := cli("keep;", "sieve", "put", "@example.org", "before", "--activate"); r.code != 0 {
		t.Fatalf("put @domain: %+v", r)
	}
	if r := cli("", "sieve", "list", "@example.org"); r.code != 0 || r.stdout != "before\tactive\n" {
		t.Fatalf("list @domain: %+v", r)
	}
}

func TestCLISieveErrors(t *testing.T) {
	cli, _ := sieveCLI(t, func(src []byte) error {
		if strings.Contains(string(src), "bogus") {
			return errors.New("line 1: unknown command \"bogus\"")
		}
		return nil
	})
	r := cli("bogus;\r\n", "sieve", "put", "ann@example.org", "x")
	if msg := oneLineErr(t, r); !strings.Contains(msg, "line 1") || !strings.Contains(msg, "bogus") {
		t.Fatalf("compile error: %q", msg)
	}
	if r := cli("", "sieve", "put", "ann@example.org", "x"); r.code != exitUsage {
		t.Fatalf("empty stdin: %+v", r)
	}
	if r := cli("keep;", "sieve", "put", "ann@example.org"); r.code != exitUsage {
		t.Fatalf("missing NAME: %+v", r)
	}
	if r := cli("", "sieve", "frobnicate"); r.code != exitUsage {
		t.Fatalf("unknown subcommand: %+v", r)
	}
	if r := cli("", "sieve", "activate", "nobody@example.org", "x"); r.code != exitError {
		t.Fatalf("no such user: %+v", r)
	}
}

func TestCLISieveCheck(t *testing.T) {
	r := runCLI(t, nil, "require \"include\";\r\ninclude :personal \"later\";\r\nkeep;\r\n", "sieve", "check")
	if r.code != 0 || r.stdout != "ok\n" {
		t.Fatalf("check: %+v", r)
	}
	if msg := oneLineErr(t, runCLI(t, nil, "keep;\r\nbogus;\r\n", "sieve", "check")); !strings.Contains(msg, "line 2") {
		t.Fatalf("check of a broken script: %q", msg)
	}
}

func TestCLIUserForward(t *testing.T) {
	cli, st := sieveCLI(t, nil)
	if r := cli("", "user", "forward", "ann@example.org"); r.code != 0 || r.stdout != "forward off\n" {
		t.Fatalf("show none: %+v", r)
	}
	r := cli("", "user", "forward", "ann@example.org", "--to", "x@remote.test,Y@remote.test", "--keep")
	if r.code != 0 || r.stdout != "forward x@remote.test,y@remote.test\nkeep true\n" {
		t.Fatalf("set: %+v", r)
	}
	if f, ok, err := st.ForwardingOf("ann@example.org"); err != nil || !ok || !f.Keep || len(f.Addresses) != 2 {
		t.Fatalf("stored %+v %v %v", f, ok, err)
	}
	if r := cli("", "user", "forward", "ann@example.org"); r.code != 0 || !strings.HasPrefix(r.stdout, "forward x@remote.test,") {
		t.Fatalf("show: %+v", r)
	}
	if r := cli("", "user", "forward", "ann@example.org", "--off"); r.code != 0 || r.stdout != "forward off\n" {
		t.Fatalf("off: %+v", r)
	}
	if r := cli("", "user", "forward", "ann@example.org", "--off", "--to", "x@remote.test"); r.code != exitUsage {
		t.Fatalf("--off with --to: %+v", r)
	}
	if r := cli("", "user", "forward", "ann@example.org", "--keep"); r.code != exitUsage {
		t.Fatalf("--keep alone: %+v", r)
	}
}

func TestCLIDomainCatchAll(t *testing.T) {
	cli, st := sieveCLI(t, nil)
	r := cli("", "domain", "set", "example.org", "--catch-all", "ann@example.org", "--plus-folders")
	if r.code != 0 || !strings.Contains(r.stdout, "catch-all ann@example.org\n") || !strings.Contains(r.stdout, "plus-folders true\n") {
		t.Fatalf("set: %+v", r)
	}
	if rc, err := st.ResolveRecipient("anything@example.org"); err != nil || rc.User != "ann@example.org" || !rc.PlusFolders {
		t.Fatalf("resolve %+v, %v", rc, err)
	}
	r = cli("", "domain", "set", "example.org", "--catch-all=", "--plus-folders=false")
	if r.code != 0 || strings.Contains(r.stdout, "catch-all") || !strings.Contains(r.stdout, "plus-folders false\n") {
		t.Fatalf("clear: %+v", r)
	}
	if msg := oneLineErr(t, cli("", "domain", "set", "example.org", "--catch-all", "nobody@example.org")); !strings.Contains(msg, "nobody@example.org") {
		t.Fatalf("catch-all to no user: %q", msg)
	}
}

// TestCLIDomainPublicFolders: --public-folders names the account whose
// mailboxes are the domain's public folders, shown by "domain show";
// "" stops it; an account that is not a user of the domain is refused.
func TestCLIDomainPublicFolders(t *testing.T) {
	cli, st := sieveCLI(t, nil)
	r := cli("", "domain", "set", "example.org", "--public-folders", "Ann@example.org")
	if r.code != 0 || !strings.Contains(r.stdout, "public-folders ann@example.org\n") {
		t.Fatalf("set: %+v", r)
	}
	if a, err := st.PublicFolders("example.org"); err != nil || a != "ann@example.org" {
		t.Fatalf("PublicFolders = %q, %v", a, err)
	}
	if r := cli("", "domain", "show", "example.org"); r.code != 0 || !strings.Contains(r.stdout, "public-folders ann@example.org\n") {
		t.Fatalf("show: %+v", r)
	}
	if msg := oneLineErr(t, cli("", "domain", "set", "example.org", "--public-folders", "nobody@example.org")); !strings.Contains(msg, "nobody@example.org") {
		t.Fatalf("public folders of no user: %q", msg)
	}
	if msg := oneLineErr(t, cli("", "domain", "set", "example.org", "--public-folders", "ann@elsewhere.test")); !strings.Contains(msg, "not a user of the domain") {
		t.Fatalf("public folders of another domain's user: %q", msg)
	}
	r = cli("", "domain", "set", "example.org", "--public-folders=")
	if r.code != 0 || strings.Contains(r.stdout, "public-folders") {
		t.Fatalf("clear: %+v", r)
	}
	if r := cli("", "domain", "set", "--help"); !strings.Contains(r.stdout+r.stderr, "--public-folders") {
		t.Fatalf("help: %+v", r)
	}
}

// TestCLISievePutCompiles: the node's admin API compiles with
// protocols/sieve; a broken script is refused with its line.
func TestCLISievePutCompiles(t *testing.T) {
	cli, _ := sieveCLI(t, sieve.Check)
	if r := cli("require \"fileinto\";\r\nfileinto \"A\";\r\n", "sieve", "put", "ann@example.org", "ok"); r.code != 0 {
		t.Fatalf("good script: %+v", r)
	}
	msg := oneLineErr(t, cli("keep;\r\nfileinto \"A\";\r\n", "sieve", "put", "ann@example.org", "bad"))
	if !strings.Contains(msg, "line 2") {
		t.Fatalf("broken script: %q", msg)
	}
	if r := cli("", "sieve", "list", "ann@example.org"); r.stdout != "ok\n" {
		t.Fatalf("list: %+v", r)
	}
}
