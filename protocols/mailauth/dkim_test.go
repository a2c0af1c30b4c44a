package mailauth

import (
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"
)

// RFC 6376 Appendix A.2 (signed with the key of Appendix C, published at
// brisbane._domainkey.example.com), simple/simple.
var rfc6376Message = crlf(`DKIM-Signature: v=1; a=rsa-sha256; s=brisbane; d=example.com;
      c=simple/simple; q=dns/txt; i=joe@football.example.com;
      h=Received : From : To : Subject : Date : Message-ID;
      bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
      b=AuUoFEfDxTDkHlLXSZEpZj79LICEps6eda7W3deTVFOk4yAUoqOB
      4nujc7YopdG5dWLSdNg6xNAZpOPr+kHxt1IrE+NahM6L/LbvaHut
      KVdkLLkpVaVVQPzeRDI009SO2Il5Lu7rDNH6mZckBdrIx0orEtZV
      4bmp/YzhwvcubU4=;
Received: from client1.football.example.com  [192.0.2.1]
      by submitserver.example.com with SUBMISSION;
      Fri, 11 Jul 2003 21:01:54 -0700 (PDT)
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game. Are you hungry yet?

Joe.
`)

// RFC 6376 Appendix C.
const rfc6376Key = "v=DKIM1; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDwIRP/UC3SBsEmGqZ9ZJW3/DkMoGeLnQg1fWn7/zYt" +
	"IxN2SnFCjxOCKG9v3b4jYfcTNh5ijSsq631uBItLa7od+v/RtdC2UzJ1lWT947qR+Rcac2gbto/NMqJ0fzfVjH4OuKhi" +
	"tdY9tf6mcwGjaNBcWToIMmPSPDdQPNUYckcQ2QIDAQAB"

// RFC 8463 Appendix A.3: one message signed with Ed25519 (selector
// brisbane) and RSA (selector test), keys of Appendix A.2; the file is
// shared with the arc package's tests.
var rfc8463Message = rfc8463()

const (
	rfc8463Ed25519Key = "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo="
	rfc8463RSAKey     = "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"
)

type dkimWant struct {
	domain, selector, result string
}

func dkimGot(v *Verdict) []dkimWant {
	var got []dkimWant
	for _, d := range v.DKIM {
		got = append(got, dkimWant{d.Domain, d.Selector, d.Result})
	}
	return got
}

func TestDKIMTestVectors(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("brisbane._domainkey.example.com", "TXT", rfc6376Key)
	srv.Add("brisbane._domainkey.football.example.com", "TXT", rfc8463Ed25519Key)
	srv.Add("test._domainkey.football.example.com", "TXT", rfc8463RSAKey)
	c := newChecker(t, r, nil)

	tests := []struct {
		name string
		msg  string
		want []dkimWant
	}{
		{"RFC 6376 A.2 rsa-sha256 simple/simple", rfc6376Message,
			[]dkimWant{{"example.com", "brisbane", "pass"}}},
		{"RFC 8463 A.3 ed25519-sha256 and rsa-sha256", rfc8463Message,
			[]dkimWant{{"football.example.com", "brisbane", "pass"}, {"football.example.com", "test", "pass"}}},
		// RFC 6376 §3.7 / §6.1.3: the body hash no longer matches.
		{"RFC 6376 body changed", strings.Replace(rfc6376Message, "hungry", "angry!", 1),
			[]dkimWant{{"example.com", "brisbane", "fail"}}},
		// §6.1.3: a signed header changed: the signature fails.
		{"RFC 8463 Subject changed", strings.Replace(rfc8463Message, "Is dinner ready?", "Is lunch ready?", 1),
			[]dkimWant{{"football.example.com", "brisbane", "fail"}, {"football.example.com", "test", "fail"}}},
		// A relaxed body ignores trailing empty lines and white space runs.
		{"RFC 8463 relaxed body", strings.Replace(rfc8463Message, "Joe.\r\n\r\n", "Joe.  \r\n", 1),
			[]dkimWant{{"football.example.com", "brisbane", "pass"}, {"football.example.com", "test", "pass"}}},
		{"unsigned", message("joe@football.example.com"), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v := check(t, c, env("192.0.2.1", "client1.football.example.com", "joe@football.example.com"), tc.msg)
			got := dkimGot(v)
			if len(got) != len(tc.want) {
				t.Fatalf("DKIM = %+v, want %+v", v.DKIM, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("signature %d = %+v (%s), want %+v", i, got[i], v.DKIM[i].Reason, tc.want[i])
				}
			}
			if len(tc.want) == 0 && resultOf(v.Header, "dkim") != "none" {
				t.Errorf("A-R %q: want dkim=none", v.Header)
			}
		})
	}
}

// Errors of key retrieval and signature syntax (RFC 6376 §6.1.1, §6.1.2;
// RFC 8601 §2.7.1 result names).
func TestDKIMErrors(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("brisbane._domainkey.football.example.com", "TXT", rfc8463Ed25519Key)
	c := newChecker(t, r, nil)
	ed, _, _ := strings.Cut(rfc8463Message, "DKIM-Signature: v=1; a=rsa-sha256")
	_, rest, _ := strings.Cut(rfc8463Message, "From: Joe")
	edOnly := ed + "From: Joe" + rest

	tests := []struct {
		name   string
		setup  func()
		msg    string
		result string
	}{
		{"key published", nil, edOnly, "pass"},
		{"no key record: NXDOMAIN", func() { srv.Remove("brisbane._domainkey.football.example.com", "TXT") }, edOnly, "permerror"},
		{"SERVFAIL for the key", func() { srv.ServFail("brisbane._domainkey.football.example.com") }, edOnly, "temperror"},
		{"revoked key (empty p=)", func() {
			srv.Restore("brisbane._domainkey.football.example.com")
			srv.Add("brisbane._domainkey.football.example.com", "TXT", "v=DKIM1; k=ed25519; p=")
		}, edOnly, "permerror"},
		{"key of the wrong type", func() {
			srv.Remove("brisbane._domainkey.football.example.com", "TXT")
			srv.Add("brisbane._domainkey.football.example.com", "TXT", rfc8463RSAKey)
		}, edOnly, "permerror"},
		// RFC 8301 §3.1: rsa-sha1 is not valid any more.
		{"rsa-sha1", func() {
			srv.Remove("brisbane._domainkey.football.example.com", "TXT")
			srv.Add("brisbane._domainkey.football.example.com", "TXT", rfc8463Ed25519Key)
		}, strings.Replace(edOnly, "a=ed25519-sha256", "a=rsa-sha1", 1), "permerror"},
		// A body length limit lets anything be appended: not trusted.
		{"l= tag", nil, strings.Replace(edOnly, "t=1528637909;", "t=1528637909; l=10;", 1), "fail"},
		{"From not signed", nil, strings.Replace(edOnly, "h=from : to :\r\n subject : date : message-id : from : subject : date;", "h=to : subject;", 1), "permerror"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.setup != nil {
				tc.setup()
			}
			v := check(t, c, env("192.0.2.1", "", "joe@football.example.com"), tc.msg)
			if len(v.DKIM) != 1 || v.DKIM[0].Result != tc.result {
				t.Fatalf("DKIM = %+v, want one %s", v.DKIM, tc.result)
			}
		})
	}
}

func TestDKIMEd25519GeneratedKey(t *testing.T) {
	srv, r := newDNS(t)
	s := newEd25519(t, srv, "sender.test", "sel1")
	c := newChecker(t, r, nil)
	v := check(t, c, env("192.0.2.1", "", "a@sender.test"), s.sign(t, message("a@sender.test")))
	if got := dkimGot(v); len(got) != 1 || got[0] != (dkimWant{"sender.test", "sel1", "pass"}) {
		t.Fatalf("DKIM = %+v", v.DKIM)
	}
	if v.DKIM[0].Algorithm != "ed25519-sha256" {
		t.Errorf("algorithm %q", v.DKIM[0].Algorithm)
	}
}

// More signatures than MaxSignatures: the first ones are verified, the
// rest are not looked at (RFC 6376 §6.1 lets a verifier limit them).
func TestDKIMMaxSignatures(t *testing.T) {
	srv, r := newDNS(t)
	c := newChecker(t, r, func(cfg *Config) { cfg.MaxSignatures = 2 })
	msg := message("a@sender.test")
	for _, sel := range []string{"s3", "s2", "s1"} { // the last one signed is on top
		msg = newEd25519(t, srv, "sender.test", sel).sign(t, msg)
	}
	v := check(t, c, env("192.0.2.1", "", "a@sender.test"), msg)
	if got := dkimGot(v); len(got) != 2 || got[0] != (dkimWant{"sender.test", "s1", "pass"}) || got[1] != (dkimWant{"sender.test", "s2", "pass"}) {
		t.Fatalf("DKIM = %+v", v.DKIM)
	}
	if n := srv.Count("s3._domainkey.sender.test", "TXT"); n != 0 {
		t.Errorf("the third signature's key was looked up %d times", n)
	}
}

// go-msgauth clears the Err of the verification that met an unexpected
// error (a read error) and returns the error on its own: no verification
// of that message is believed then.
func TestDKIMResultsReadError(t *testing.T) {
	sigs := []sigTags{{domain: "a.test"}, {domain: "b.test"}}
	verifs := []*dkim.Verification{{Domain: "a.test"}, {Domain: "b.test"}}
	for _, r := range dkimResults(sigs, verifs, io.ErrUnexpectedEOF, 8) {
		if r.Result != "permerror" {
			t.Errorf("%+v: a read error must not leave a pass", r)
		}
	}
	for _, r := range dkimResults(sigs, verifs, dkim.ErrTooManySignatures, 8) {
		if r.Result != "pass" {
			t.Errorf("%+v", r)
		}
	}
	if got := dkimResults(sigs, verifs[:1], nil, 8); got[0].Result != "permerror" {
		t.Errorf("a count mismatch: %+v", got)
	}
}

// A header section folded into very many lines is not given to the DKIM
// verifier, whose unfolding would take time in the square of it: its
// signatures are permerror, at once.
func TestDKIMHeaderTooCostly(t *testing.T) {
	srv, r := newDNS(t)
	s := newEd25519(t, srv, "sender.test", "k")
	c := newChecker(t, r, nil)
	signed := s.sign(t, message("a@sender.test"))
	junk := "X-Junk: x" + strings.Repeat("\r\n x", 200000) + "\r\n"
	start := time.Now()
	v := check(t, c, env("192.0.2.1", "", "a@sender.test"), junk+signed)
	if len(v.DKIM) != 1 || v.DKIM[0].Result != "permerror" {
		t.Fatalf("DKIM = %+v", v.DKIM)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	// A long but ordinary field still verifies.
	refs := "References:" + strings.Repeat("\r\n <0123456789abcdef0123456789@mail.example.com>", 300) + "\r\n"
	v = check(t, c, env("192.0.2.1", "", "a@sender.test"), refs+signed)
	if len(v.DKIM) != 1 || v.DKIM[0].Result != "pass" {
		t.Fatalf("with a long References: %+v", v.DKIM)
	}
}

// rfc8463 reads testdata/rfc8463.eml with CRLF line endings.
func rfc8463() string {
	b, err := os.ReadFile("testdata/rfc8463.eml")
	if err != nil {
		panic(err)
	}
	return crlf(string(b))
}
