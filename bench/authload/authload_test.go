package authload

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/mailauth"
)

// publish starts an in-process DNS server with the sending domain's
// records for k, as Run does.
func publish(t *testing.T, k *Key) *dnstest.Server {
	t.Helper()
	txt, err := k.Record()
	if err != nil {
		t.Fatal(err)
	}
	srv := dnstest.Start(t)
	srv.Add(SenderDomain, "TXT", SPFRecord)
	srv.Add(Selector+"._domainkey."+SenderDomain, "TXT", txt)
	srv.Add("_dmarc."+SenderDomain, "TXT", DMARCRecord)
	return srv
}

// verdict runs Surat's own inbound checks (protocols/mailauth, as the MX
// port runs them) on msg, resolving through srv, and returns the stored
// header section: the Authentication-Results field, then msg's header.
func verdict(t *testing.T, srv *dnstest.Server, msg []byte) (mailauth.Verdict, []byte) {
	t.Helper()
	r, err := dns.New(srv.Addr())
	if err != nil {
		t.Fatal(err)
	}
	c, err := mailauth.New(mailauth.Config{Resolver: r, AuthservID: Hostname})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	m := c.Start(ctx, mailauth.Envelope{RemoteIP: net.IPv4(127, 0, 1, 7), HELO: SenderDomain, MailFrom: Sender,
		RecipientDomains: []string{"example.test"}})
	if _, err := m.Write(msg); err != nil {
		t.Fatal(err)
	}
	v, err := m.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	return *v, append([]byte(v.Header), append(header, "\r\n\r\n"...)...)
}

// TestCorpusPassesSurat: the messages a round sends are distinct, of the
// body size asked, and pass SPF, DKIM and DMARC in Surat's own checks
// against the records Run publishes, for both key types; and CheckHeader
// accepts the field those checks write.
func TestCorpusPassesSurat(t *testing.T) {
	for _, alg := range []string{KeyEd25519, KeyRSA} {
		t.Run(alg, func(t *testing.T) {
			k, err := NewKey(alg)
			if err != nil {
				t.Fatal(err)
			}
			srv := publish(t, k)
			corpus, signing, err := Corpus(k, 1, "authload test round 1 checks on", 3, Recipient, 4096)
			if err != nil {
				t.Fatal(err)
			}
			if signing <= 0 {
				t.Errorf("signing took %v", signing)
			}
			if bytes.Equal(corpus[0], corpus[1]) {
				t.Error("two messages of a corpus are the same")
			}
			for i, msg := range corpus {
				_, body, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
				if len(body) != 4096 {
					t.Errorf("message %d: body of %d bytes", i, len(body))
				}
				v, stored := verdict(t, srv, msg)
				if v.Action != mailauth.Accept {
					t.Fatalf("message %d: %v %+v\n%s", i, v.Action, v.Reply, v.Header)
				}
				ar, err := CheckHeader(stored, true, Hostname)
				if err != nil {
					t.Fatalf("message %d: %v", i, err)
				}
				if !strings.Contains(ar, "header.a="+alg) {
					t.Errorf("message %d: %s", i, ar)
				}
				if !ofRound(stored, "authload test round 1 checks on") || ofRound(stored, "authload test round 1 checks off") {
					t.Errorf("message %d: round not recognised from its Subject", i)
				}
			}
		})
	}
}

// TestCheckHeaderRefusesAFailure: what Surat writes when DKIM fails (the
// key not published: DMARC still passes on aligned SPF, so the message is
// accepted) is refused, as is a message without the field.
func TestCheckHeaderRefusesAFailure(t *testing.T) {
	k, err := NewKey(KeyEd25519)
	if err != nil {
		t.Fatal(err)
	}
	srv := publish(t, k)
	srv.Remove(Selector+"._domainkey."+SenderDomain, "TXT")
	corpus, _, err := Corpus(k, 1, "t", 1, Recipient, 100)
	if err != nil {
		t.Fatal(err)
	}
	v, stored := verdict(t, srv, corpus[0])
	if v.Action != mailauth.Accept {
		t.Fatalf("%v: %s", v.Action, v.Header)
	}
	if _, err := CheckHeader(stored, true, Hostname); err == nil || !strings.Contains(err.Error(), "no dkim=pass") {
		t.Errorf("a DKIM failure passed the check: %v\n%s", err, v.Header)
	}
	if _, err := CheckHeader(stored, false, Hostname); err == nil {
		t.Error("a field with our authserv-id passed the off check")
	}
	header, _, _ := bytes.Cut(corpus[0], []byte("\r\n\r\n"))
	plain := append(header, "\r\n\r\n"...)
	if _, err := CheckHeader(plain, true, Hostname); err == nil {
		t.Error("a message without Authentication-Results passed the on check")
	}
	if _, err := CheckHeader(plain, false, Hostname); err != nil {
		t.Errorf("off: %v", err)
	}
}

func TestCheckHeader(t *testing.T) {
	const rest = "From: News <news@sender.test>\r\nSubject: s\r\n\r\n"
	good := "Authentication-Results: mx.bench.test;\r\n\tspf=pass reason=\"a; b (c)\" smtp.mailfrom=news@sender.test;\r\n" +
		"\tdkim=pass header.d=sender.test header.s=sel\r\n header.a=ed25519-sha256 header.b=abcdefgh;\r\n" +
		"\tdmarc=pass (p=reject dis=none) header.from=sender.test\r\n"
	tests := []struct {
		name   string
		header string
		on     bool
		ok     bool
	}{
		{"on, all pass", good + rest, true, true},
		{"on, all pass, after another server's field", "Authentication-Results: other.test; dkim=fail\r\n" + good + rest, true, true},
		{"on, another server's field only", "Authentication-Results: other.test; spf=pass smtp.mailfrom=news@sender.test; dkim=pass header.d=sender.test; dmarc=pass header.from=sender.test\r\n" + rest, true, false},
		{"on, two of ours", good + good + rest, true, false},
		{"on, dmarc fails", strings.Replace(good, "dmarc=pass", "dmarc=fail", 1) + rest, true, false},
		{"on, dkim of another domain", strings.Replace(good, "header.d=sender.test", "header.d=other.test", 1) + rest, true, false},
		{"on, pass only inside a comment", "Authentication-Results: mx.bench.test; spf=pass smtp.mailfrom=news@sender.test; dkim=none (dkim=pass header.d=sender.test); dmarc=pass header.from=sender.test\r\n" + rest, true, false},
		{"on, none", rest, true, false},
		{"off, none", rest, false, true},
		{"off, another server's", "Authentication-Results: other.test; spf=pass\r\n" + rest, false, true},
		{"off, ours", good + rest, false, false},
		{"authserv-id case", strings.Replace(good, "mx.bench.test", "MX.Bench.Test", 1) + rest, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CheckHeader([]byte(tt.header), tt.on, Hostname)
			if (err == nil) != tt.ok {
				t.Errorf("CheckHeader: %v, want ok=%t", err, tt.ok)
			}
		})
	}
}
