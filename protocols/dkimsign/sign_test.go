package dkimsign

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
	"github.com/surat-mail/surat/protocols/domains"
)

var (
	keysOnce sync.Once
	testRec  *evlog.DomainRecord
	keysErr  error
)

// domainRecord is example.test with a fresh Ed25519 and RSA-2048 key, the
// same for the whole test binary.
func domainRecord(t testing.TB) *evlog.DomainRecord {
	t.Helper()
	keysOnce.Do(func() {
		var ks []*evlog.DkimKey
		ks, keysErr = domains.NewKeys(time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), nil)
		testRec = &evlog.DomainRecord{Domain: "example.test", DkimKeys: ks}
	})
	if keysErr != nil {
		t.Fatal(keysErr)
	}
	return testRec
}

// zoneOf is what `surat domain records` prints for rec.
func zoneOf(t testing.TB, rec *evlog.DomainRecord) string {
	t.Helper()
	rs, err := domains.Records(rec, "mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	return domains.Zone(rs)
}

// txtFrom answers TXT look-ups from the printed records, for go-msgauth's
// verifier.
func txtFrom(t testing.TB, rec *evlog.DomainRecord) func(string) ([]string, error) {
	rs, err := domains.Records(rec, "mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	return func(name string) ([]string, error) {
		var out []string
		for _, r := range rs {
			if r.Type == "TXT" && strings.TrimSuffix(r.Name, ".") == strings.TrimSuffix(name, ".") {
				out = append(out, r.Data)
			}
		}
		if out == nil {
			return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
		}
		return out, nil
	}
}

const testMessage = "From: Ann <ann@example.test>\r\n" +
	"To: bo@remote.test\r\n" +
	"Subject: a  test\r\n" +
	"   folded\r\n" +
	"Date: Wed, 02 Dec 2026 08:00:00 +0000\r\n" +
	"Message-ID: <1@example.test>\r\n" +
	"List-Id: <x.example.test>\r\n" +
	"X-Unsigned: yes\r\n" +
	"\r\n" +
	"Hello,\r\n\r\n  trailing blanks  \r\n\r\n\r\n"

// sign writes msg to a Message in pieces of n bytes and returns the
// signed message.
func sign(t testing.TB, s *Signer, msg string, n int) []byte {
	t.Helper()
	m := s.Start()
	for i := 0; i < len(msg); i += n {
		if _, err := m.Write([]byte(msg[i:min(i+n, len(msg))])); err != nil {
			t.Fatal(err)
		}
	}
	f, err := m.Fields()
	if err != nil {
		t.Fatal(err)
	}
	return append(f, msg...)
}

func verify(t testing.TB, rec *evlog.DomainRecord, signed []byte) []*dkim.Verification {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(signed), &dkim.VerifyOptions{LookupTXT: txtFrom(t, rec)})
	if err != nil {
		t.Fatal(err)
	}
	return vs
}

func TestSignVerifies(t *testing.T) {
	rec := domainRecord(t)
	s, err := New(rec)
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Selectors(); len(got) != 2 || got[0] != "20261202e" || got[1] != "20261202r" {
		t.Fatalf("selectors %v", got)
	}
	for _, n := range []int{1, 7, 4096} { // the header split anywhere
		signed := sign(t, s, testMessage, n)
		vs := verify(t, rec, signed)
		if len(vs) != 2 {
			t.Fatalf("%d signatures", len(vs))
		}
		for _, v := range vs {
			if v.Err != nil || v.Domain != "example.test" {
				t.Errorf("piece %d: %s: %v", n, v.Domain, v.Err)
			}
			want := []string{"from", "to", "subject", "date", "message-id", "list-id", "from"}
			if strings.Join(lower(v.HeaderKeys), ":") != strings.Join(want, ":") {
				t.Errorf("h= %v, want %v", v.HeaderKeys, want)
			}
		}
		fields := string(signed[:bytes.Index(signed, []byte("From: Ann"))])
		if !strings.Contains(fields, "a=ed25519-sha256") || !strings.Contains(fields, "a=rsa-sha256") ||
			strings.Count(fields, "c=relaxed/relaxed") != 2 {
			t.Errorf("fields %q", fields)
		}
	}

	// Relaxed canonicalization: re-folding and blanks pass; changes fail.
	signed := sign(t, s, testMessage, 4096)
	for _, tc := range []struct {
		name   string
		change func(string) string
		ok     bool
	}{
		{"blanks changed", func(m string) string { return strings.Replace(m, "Subject: a  test", "Subject:  a test", 1) }, true},
		{"unsigned field added", func(m string) string { return strings.Replace(m, "X-Unsigned", "X-New: 1\r\nX-Unsigned", 1) }, true},
		{"body changed", func(m string) string { return strings.Replace(m, "Hello", "Hullo", 1) }, false},
		{"subject changed", func(m string) string { return strings.Replace(m, "a  test", "a test!", 1) }, false},
		{"second From added", func(m string) string {
			return strings.Replace(m, "From: Ann", "From: Eve <eve@example.test>\r\nFrom: Ann", 1)
		}, false},
	} {
		for _, v := range verify(t, rec, []byte(tc.change(string(signed)))) {
			if (v.Err == nil) != tc.ok {
				t.Errorf("%s: %s verified %v, want %v (%v)", tc.name, v.Domain, v.Err == nil, tc.ok, v.Err)
			}
		}
	}
}

func lower(s []string) []string {
	out := make([]string, len(s))
	for i, x := range s {
		out[i] = strings.ToLower(x)
	}
	return out
}

func TestSignEdges(t *testing.T) {
	rec := domainRecord(t)
	s, err := New(rec)
	if err != nil {
		t.Fatal(err)
	}
	// A message without a body, and one with LF line ends in its header
	// check only that signing ends; a header too large is refused.
	for _, msg := range []string{"From: ann@example.test\r\nSubject: x\r\n", "From: ann@example.test\r\n\r\n"} {
		m := s.Start()
		m.Write([]byte(msg))
		if _, err := m.Fields(); err != nil {
			t.Errorf("%q: %v", msg, err)
		}
	}
	m := s.Start()
	big := "X-Big: " + strings.Repeat("a", 1000) + "\r\n"
	var werr error
	for i := 0; i < MaxHeaderBytes/len(big)+2 && werr == nil; i++ {
		_, werr = m.Write([]byte(big))
	}
	if werr != ErrHeaderTooLarge {
		t.Fatalf("huge header: %v", werr)
	}
	if _, err := m.Fields(); err != ErrHeaderTooLarge {
		t.Fatalf("Fields after a huge header: %v", err)
	}
	// Only RSA left: it signs alone. No key: ErrNoKeys.
	only := &evlog.DomainRecord{Domain: "example.test", DkimKeys: rec.GetDkimKeys()[1:]}
	if s, err := New(only); err != nil || len(s.Selectors()) != 1 {
		t.Fatalf("RSA only: %v", err)
	}
	if _, err := New(&evlog.DomainRecord{Domain: "example.test"}); err == nil {
		t.Fatal("a signer without keys")
	}
	// The oldest key of an algorithm signs: a rotated key waits.
	newer, err := domains.NewKeys(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	rotated := &evlog.DomainRecord{Domain: "example.test", DkimKeys: append(append([]*evlog.DkimKey{}, newer...), rec.GetDkimKeys()...)}
	if s, _ := New(rotated); strings.Join(s.Selectors(), ",") != "20261202e,20261202r" {
		t.Fatalf("after rotation signs with %v", s.Selectors())
	}
}

// TestDkimverify: Debian's dkimverify (python3-dkim) verifies both
// signatures, asking a DNS server that serves what `domain records`
// prints.
func TestDkimverify(t *testing.T) {
	const tool = "/usr/bin/dkimverify"
	if _, err := os.Stat(tool); err != nil {
		t.Skipf("%s not installed (apt-get install python3-dkim python3-nacl): %v", tool, err)
	}
	rec := domainRecord(t)
	srv := dnstest.Start(t)
	if err := srv.AddZone(zoneOf(t, rec)); err != nil {
		t.Fatal(err)
	}
	// dkimverify looks keys up with dnspython's default resolver: point
	// it at srv.
	dir := t.TempDir()
	_, port, _ := net.SplitHostPort(srv.Addr())
	site := fmt.Sprintf("import dns.resolver\nr = dns.resolver.Resolver(configure=False)\nr.nameservers = ['127.0.0.1']\nr.port = %s\ndns.resolver.default_resolver = r\n", port)
	if err := os.WriteFile(filepath.Join(dir, "sitecustomize.py"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	s, _ := New(rec)
	signed := sign(t, s, testMessage, 4096)
	run := func(msg []byte, idx int) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, tool, "--index", fmt.Sprint(idx))
		cmd.Env = append(os.Environ(), "PYTHONPATH="+dir)
		cmd.Stdin = bytes.NewReader(msg)
		out, err := cmd.CombinedOutput()
		return strings.TrimSpace(string(out)), err
	}
	for idx := range 2 {
		if out, err := run(signed, idx); err != nil || out != "signature ok" {
			t.Errorf("signature %d: %v: %s", idx, err, out)
		}
		tampered := bytes.Replace(signed, []byte("Hello"), []byte("Hullo"), 1)
		// dkimverify fails with a message or with the module's exception.
		if out, err := run(tampered, idx); err == nil || !strings.Contains(out, "signature verification failed") && !strings.Contains(out, "body hash mismatch") {
			t.Errorf("tampered, signature %d: %v: %s", idx, err, out)
		}
	}
	if srv.Count("20261202e._domainkey.example.test", "TXT") == 0 {
		t.Errorf("dkimverify did not ask the test DNS server: %v", srv.Asked())
	}
}

// BenchmarkSign signs a 4 KiB message with one key.
func BenchmarkSign(b *testing.B) {
	rec := domainRecord(b)
	body := strings.Repeat(strings.Repeat("x", 76)+"\r\n", 4096/78)
	msg := testMessage + body
	for _, tc := range []struct {
		name string
		keys []*evlog.DkimKey
	}{{"ed25519", rec.GetDkimKeys()[:1]}, {"rsa2048", rec.GetDkimKeys()[1:]}, {"both", rec.GetDkimKeys()}} {
		s, err := New(&evlog.DomainRecord{Domain: "example.test", DkimKeys: tc.keys})
		if err != nil {
			b.Fatal(err)
		}
		b.Run(tc.name, func(b *testing.B) {
			b.SetBytes(int64(len(msg)))
			for b.Loop() {
				m := s.Start()
				if _, err := m.Write([]byte(msg)); err != nil {
					b.Fatal(err)
				}
				if _, err := m.Fields(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
