package main

import (
	"crypto/tls"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gosmtp "github.com/emersion/go-smtp"
)

// storedIn returns the mailbox (INBOX or Junk) and the stored bytes of the
// message with msgid, read over IMAP.
func storedIn(t *testing.T, addr, user, pw, msgid string) (string, string) {
	t.Helper()
	cl, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	for _, box := range []string{"INBOX", "Junk"} {
		if _, err := cl.Select(box, nil).Wait(); err != nil {
			t.Fatal(err)
		}
		msgs, err := cl.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8, 9), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			for _, b := range m.BodySection {
				if strings.Contains(string(b.Bytes), "Message-ID: <"+msgid+">") {
					return box, string(b.Bytes)
				}
			}
		}
	}
	t.Fatalf("%s not found in %s's INBOX or Junk", msgid, user)
	return "", ""
}

// The MX port's last check: one X-Spam-Status on every stored message
// (the client's own removed), spam in Junk once surat spam train taught
// the global model.
func TestServeSpamClassifier(t *testing.T) {
	nodes := startServeCluster(t, 1, "--hostname", "mx.example.test")
	n := nodes[0]
	if r := runCLI(t, nil, "pw-carol-1\n", "user", "add", "carol@example.test", "--password-stdin", "--server", n.url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	send := func(msgid, subject, headers, body string) {
		t.Helper()
		msg := "From: someone@remote.test\r\nTo: carol@example.test\r\nSubject: " + subject + "\r\nMessage-ID: <" + msgid + ">\r\n" +
			headers + "\r\n" + body
		cl, err := gosmtp.DialStartTLS(n.smtp, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		if err := cl.SendMail("someone@remote.test", []string{"carol@example.test"}, strings.NewReader(msg)); err != nil {
			t.Fatalf("send %s: %v", msgid, err)
		}
	}

	send("forged@remote.test", "hello", "X-Spam-Status: No, score=-100\r\nX-Spam-Flag: NO\r\n", "Hi Carol.\r\n")
	box, stored := storedIn(t, n.imaps, "carol@example.test", "pw-carol-1", "forged@remote.test")
	if box != "INBOX" || strings.Count(stored, "X-Spam-Status:") != 1 || !strings.Contains(stored, "X-Spam-Status: No, score=5.00 required=9.00") ||
		strings.Contains(stored, "score=-100") || strings.Contains(stored, "X-Spam-Flag") {
		t.Fatalf("in %s:\n%s", box, stored)
	}

	dir := t.TempDir()
	for _, kind := range []string{"spam", "ham"} {
		os.Mkdir(filepath.Join(dir, kind), 0o700)
		for i := range 12 {
			words := "meeting agenda minutes quarterly report project timeline review"
			if kind == "spam" {
				words = "viagra cheap pills casino jackpot lottery winner prize claim"
			}
			msg := fmt.Sprintf("From: a%d@%s.test\r\nSubject: %s %d\r\n\r\n%s\r\n%s\r\n", i, kind, kind, i, words, words)
			os.WriteFile(filepath.Join(dir, kind, fmt.Sprintf("%d.eml", i)), []byte(msg), 0o600)
		}
	}
	r := runCLI(t, nil, "", "spam", "train", "--spam", filepath.Join(dir, "spam"), "--ham", filepath.Join(dir, "ham"), "--server", n.url())
	if r.code != 0 || r.stdout != "trained 12 spam and 12 ham messages into the global model\n" {
		t.Fatalf("spam train: %+v", r)
	}
	send("pills@remote.test", "cheap pills", "", "viagra cheap pills casino jackpot lottery winner prize claim\r\n")
	if box, stored := storedIn(t, n.imaps, "carol@example.test", "pw-carol-1", "pills@remote.test"); box != "Junk" ||
		strings.Count(stored, "X-Spam-Status: Yes, score=") != 1 {
		t.Fatalf("spam in %s:\n%s", box, stored)
	}
	send("agenda@remote.test", "the agenda", "", "meeting agenda minutes quarterly report\r\n")
	if box, _ := storedIn(t, n.imaps, "carol@example.test", "pw-carol-1", "agenda@remote.test"); box != "INBOX" {
		t.Fatalf("ham in %s", box)
	}
}
