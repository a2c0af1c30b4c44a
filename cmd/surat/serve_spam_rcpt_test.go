package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
)

// Two recipients, two verdicts: carol trained this kind of message as
// spam into her own model, dave did not; each copy has its own field and
// mailbox.
func TestServeSpamPerRecipient(t *testing.T) {
	nodes := startServeCluster(t, 1, "--hostname", "mx.example.test")
	n := nodes[0]
	for _, u := range []string{"carol", "dave"} {
		if r := runCLI(t, nil, "pw-1\n", "user", "add", u+"@example.test", "--password-stdin", "--server", n.url()); r.code != 0 {
			t.Fatalf("user add: %+v", r)
		}
	}
	dir := t.TempDir()
	for _, kind := range []string{"spam", "ham"} {
		os.Mkdir(filepath.Join(dir, kind), 0o700)
		for i := range 12 {
			words := "meeting agenda minutes quarterly report project timeline review"
			if kind == "spam" {
				words = "viagra cheap pills casino jackpot lottery winner prize claim"
			}
			os.WriteFile(filepath.Join(dir, kind, fmt.Sprintf("%d.eml", i)), []byte(fmt.Sprintf("Subject: %s %d\r\n\r\n%s\r\n", kind, i, words)), 0o600)
		}
	}
	if r := runCLI(t, nil, "", "spam", "train", "--spam", filepath.Join(dir, "spam"), "--ham", filepath.Join(dir, "ham"), "--server", n.url()); r.code != 0 {
		t.Fatal(r)
	}
	os.Mkdir(filepath.Join(dir, "carol"), 0o700)
	for i := range 5 {
		os.WriteFile(filepath.Join(dir, "carol", fmt.Sprintf("%d.eml", i)), []byte("Subject: newsletter\r\n\r\nzorblax quarterly fnordic update weekly digest\r\n"), 0o600)
	}
	if r := runCLI(t, nil, "", "spam", "train", "--user", "carol@example.test", "--spam", filepath.Join(dir, "carol"), "--server", n.url()); r.code != 0 {
		t.Fatal(r)
	}
	msg := "From: news@remote.test\r\nTo: list@remote.test\r\nSubject: newsletter\r\nMessage-ID: <news@remote.test>\r\n\r\nzorblax quarterly fnordic update weekly digest\r\n"
	cl, err := gosmtp.DialStartTLS(n.smtp, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.SendMail("news@remote.test", []string{"carol@example.test", "dave@example.test"}, strings.NewReader(msg)); err != nil {
		t.Fatal(err)
	}
	box, stored := storedIn(t, n.imaps, "carol@example.test", "pw-1", "news@remote.test")
	if box != "Junk" || strings.Count(stored, "X-Spam-Status:") != 1 || !strings.Contains(stored, "X-Spam-Status: Yes") {
		t.Errorf("carol's copy in %s:\n%s", box, stored)
	}
	box, stored = storedIn(t, n.imaps, "dave@example.test", "pw-1", "news@remote.test")
	if box != "INBOX" || strings.Count(stored, "X-Spam-Status:") != 1 || !strings.Contains(stored, "X-Spam-Status: No") {
		t.Errorf("dave's copy in %s:\n%s", box, stored)
	}
}
