package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/admin"
)

// relaySink is a smarthost that keeps what it is sent.
type relaySink struct {
	mu   sync.Mutex
	msgs [][]byte
}

func (s *relaySink) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &sinkSess{s: s}, nil }

type sinkSess struct{ s *relaySink }

func (*sinkSess) Mail(string, *gosmtp.MailOptions) error { return nil }
func (*sinkSess) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (ss *sinkSess) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	ss.s.msgs = append(ss.s.msgs, b)
	ss.s.mu.Unlock()
	return nil
}
func (*sinkSess) Reset()        {}
func (*sinkSess) Logout() error { return nil }

func (s *relaySink) find(needle string) []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, m := range s.msgs {
		if bytes.Contains(m, []byte(needle)) {
			return m
		}
	}
	return nil
}

// TestSubmissionSignedAndAligned: through the real serve wiring, mail
// submitted by a local user reaches the smarthost with DKIM signatures
// d=its domain that verify against the records `domain records` prints,
// and a From the user does not own is refused with 553 5.7.1.
func TestSubmissionSignedAndAligned(t *testing.T) {
	sink := &relaySink{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := gosmtp.NewServer(sink)
	srv.Domain = "smarthost.test"
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	nodes := startServeCluster(t, 1, "--hostname", "mx.example.test", "--smarthost", ln.Addr().String())
	n := nodes[0]
	if r := runCLI(t, nil, "pw-alice-1\n", "user", "add", "alice@example.test", "--password-stdin", "--server", n.url()); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	send := func(from, msgid string) error {
		cl, err := gosmtp.DialStartTLS(n.submission, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return err
		}
		defer cl.Close()
		if err := cl.Auth(sasl.NewPlainClient("", "alice@example.test", "pw-alice-1")); err != nil {
			return err
		}
		msg := "From: " + from + "\r\nTo: dave@remote.test\r\nSubject: signed?\r\nDate: Wed, 02 Dec 2026 08:00:00 +0000\r\n" +
			"Message-ID: <" + msgid + ">\r\n\r\nHello Dave.\r\n"
		return cl.SendMail("alice@example.test", []string{"dave@remote.test"}, strings.NewReader(msg))
	}

	// H10: another user's From.
	err = send("Bob <bob@example.test>", "forged@example.test")
	var se *gosmtp.SMTPError
	if !errors.As(err, &se) || se.Code != 553 || se.EnhancedCode != (gosmtp.EnhancedCode{5, 7, 1}) {
		t.Fatalf("forged From: %v, want 553 5.7.1", err)
	}

	// H9: signed, and verifying against the printed records.
	if err := send("Alice <alice@example.test>", "signed@example.test"); err != nil {
		t.Fatalf("aligned From: %v", err)
	}
	var got []byte
	waitUntil(t, "the message at the smarthost", func() bool {
		got = sink.find("signed@example.test")
		return got != nil
	})
	c, err := admin.NewClient(n.url(), "", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rr, err := c.DomainRecords(context.Background(), "example.test", false)
	if err != nil {
		t.Fatal(err)
	}
	lookup := func(name string) ([]string, error) {
		var out []string
		for _, r := range rr.Records {
			if r.Type == "TXT" && strings.TrimSuffix(r.Name, ".") == name {
				out = append(out, r.Data)
			}
		}
		if out == nil {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		return out, nil
	}
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(got), &dkim.VerifyOptions{LookupTXT: lookup})
	if err != nil || len(vs) != 2 {
		t.Fatalf("%d signatures (%v) on\n%s", len(vs), err, got)
	}
	for _, v := range vs {
		if v.Err != nil || v.Domain != "example.test" {
			t.Errorf("signature d=%s: %v", v.Domain, v.Err)
		}
	}
}
