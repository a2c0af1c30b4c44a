package main

import (
	"crypto/tls"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gosmtp "github.com/emersion/go-smtp"
)

// inMailbox waits until the message with msgid is in the user's mailbox
// box, read over IMAP on addr; it returns the stored message.
func inMailbox(t *testing.T, addr, user, pw, box, msgid string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if got := fetchByID(t, addr, user, pw, box, msgid); got != "" {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s not in %s's %s", msgid, user, box)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func fetchByID(t *testing.T, addr, user, pw, box, msgid string) string {
	t.Helper()
	cl, err := imapclient.DialTLS(addr, &imapclient.Options{TLSConfig: &tls.Config{InsecureSkipVerify: true}})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Login(user, pw).Wait(); err != nil {
		t.Fatal(err)
	}
	sel, err := cl.Select(box, nil).Wait()
	if err != nil || sel.NumMessages == 0 {
		return ""
	}
	msgs, err := cl.Fetch(imap.SeqSetNum(seqs(sel.NumMessages)...), &imap.FetchOptions{BodySection: []*imap.FetchItemBodySection{{Peek: true}}}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		for _, b := range m.BodySection {
			if strings.Contains(string(b.Bytes), "Message-ID: <"+msgid+">") {
				return string(b.Bytes)
			}
		}
	}
	return ""
}

func seqs(n uint32) []uint32 {
	out := make([]uint32, n)
	for i := range out {
		out[i] = uint32(i + 1)
	}
	return out
}

func sendMX(t *testing.T, addr, from, rcpt, msgid, subject string) error {
	t.Helper()
	msg := "From: " + from + "\r\nTo: " + rcpt + "\r\nSubject: " + subject + "\r\nMessage-ID: <" + msgid + ">\r\n\r\nHello.\r\n"
	cl, err := gosmtp.DialStartTLS(addr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	return cl.SendMail(from, []string{rcpt}, strings.NewReader(msg))
}

// The wiring: a script put through n1 files mail delivered through n3's
// MX port (after the spam classifier: spamtest reads its verdict) into
// its mailbox, read on n2; a script that rejects gets 550 5.7.1 at the
// end of DATA.
func TestServeSieve(t *testing.T) {
	nodes := startServeCluster(t, 3, "--hostname", "mx.example.test")
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]
	for _, u := range []string{"dora", "rex"} {
		if r := runCLI(t, nil, "pw-"+u+"-1\n", "user", "add", u+"@example.test", "--password-stdin", "--server", n1.url()); r.code != 0 {
			t.Fatalf("user add: %+v", r)
		}
	}
	script := `require ["fileinto", "mailbox", "spamtest", "relational", "comparator-i;ascii-numeric"];
if spamtest :value "ge" :comparator "i;ascii-numeric" "1" { fileinto :create "Classified"; stop; }
fileinto :create "Unclassified";`
	if r := runCLI(t, nil, script, "sieve", "put", "dora@example.test", "main", "--activate", "--server", n1.url()); r.code != 0 {
		t.Fatalf("sieve put: %+v", r)
	}
	if r := runCLI(t, nil, `require "reject"; reject "not today";`, "sieve", "put", "rex@example.test", "no", "--activate", "--server", n1.url()); r.code != 0 {
		t.Fatalf("sieve put: %+v", r)
	}
	// The scripts are replicated state: wait until n3 has applied them.
	for _, u := range []string{"dora", "rex"} {
		waitUntil(t, u+"'s script active on n3", func() bool {
			r := runCLI(t, nil, "", "sieve", "list", u+"@example.test", "--server", n3.url())
			return r.code == 0 && strings.Contains(r.stdout, "active")
		})
	}
	if err := sendMX(t, n3.smtp, "someone@remote.test", "dora@example.test", "filed@remote.test", "hello"); err != nil {
		t.Fatal(err)
	}
	stored := inMailbox(t, n2.imaps, "dora@example.test", "pw-dora-1", "Classified", "filed@remote.test")
	if !strings.Contains(stored, "X-Spam-Status: ") {
		t.Fatalf("stored without the classifier's field:\n%s", stored)
	}
	err := sendMX(t, n3.smtp, "someone@remote.test", "rex@example.test", "rejected@remote.test", "hello")
	if err == nil || !strings.Contains(err.Error(), "550") || !strings.Contains(err.Error(), "not today") {
		t.Fatalf("a rejected message: %v", err)
	}
}
