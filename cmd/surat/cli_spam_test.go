package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
)

func TestCLISpam(t *testing.T) {
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: &storeNode{s: st}, Spam: spamModels{st}, Token: "tok",
		LocalDomains: []string{"example.test"}, HashPassword: func(pw string) (string, error) { return "{PLAIN}" + pw, nil },
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	defer ts.Close()
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	cli := func(args ...string) result {
		return runCLI(t, env, "", append(args, "--server", ts.URL)...)
	}

	// Ham: a directory of .eml files; spam: an mbox written by Python's
	// mailbox module (protocols/spam/mbox/testdata).
	dir := t.TempDir()
	for i := range 5 {
		msg := fmt.Sprintf("From: colleague%d@partner.test\r\nSubject: meeting notes %d\r\n\r\nthe agenda for thursday\r\n", i, i)
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("%02d.eml", i)), []byte(msg), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	mboxFile := filepath.Join("..", "..", "protocols", "spam", "mbox", "testdata", "python.mbox")
	r := cli("spam", "train", "--spam", mboxFile, "--ham", dir)
	if r.code != 0 || r.stdout != "trained 3 spam and 5 ham messages into the global model\n" {
		t.Fatalf("spam train: %+v", r)
	}
	if m, err := st.SpamStatus(""); err != nil || m.Spam != 3 || m.Ham != 5 {
		t.Fatalf("global model after training: %+v, %v", m, err)
	}
	r = cli("spam", "status")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "global spam=3 ham=5 tokens=") {
		t.Fatalf("spam status: %+v", r)
	}

	// A user's model.
	if r := runCLI(t, env, "pw\n", "user", "add", "carol@example.test", "--password-stdin", "--server", ts.URL); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	r = cli("spam", "train", "--user", "carol@example.test", "--spam", mboxFile, "--spam", mboxFile)
	if r.code != 0 || r.stdout != "trained 6 spam and 0 ham messages into carol@example.test's model\n" {
		t.Fatalf("spam train --user: %+v", r)
	}
	r = cli("spam", "status", "--user", "carol@example.test")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "carol@example.test spam=6 ham=0 ") {
		t.Fatalf("spam status --user: %+v", r)
	}

	for _, bad := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"spam", "train"}, exitUsage, "give --spam PATH or --ham PATH"},
		{[]string{"spam", "train", "--spam", filepath.Join(dir, "missing")}, exitError, "no such file"},
		{[]string{"spam", "train", "--user", "nobody@example.test", "--ham", dir}, exitError, "no such user"},
		{[]string{"spam", "status", "--user", "nobody@example.test"}, exitError, "no such user"},
		{[]string{"spam", "frob"}, exitUsage, "unknown subcommand"},
		{[]string{"spam", "status", "extra"}, exitUsage, "unexpected argument"},
	} {
		r := cli(bad.args...)
		if r.code != bad.code || !strings.Contains(oneLineErr(t, r), bad.want) {
			t.Errorf("%v: %+v, want exit %d and %q", bad.args, r, bad.code, bad.want)
		}
	}
	if r := runCLI(t, env, "", "spam", "--help"); r.code != 0 || !strings.Contains(r.stdout, "surat spam train") {
		t.Errorf("spam --help: %+v", r)
	}
}
