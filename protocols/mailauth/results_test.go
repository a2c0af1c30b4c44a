package mailauth

import (
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/authres"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// The acceptance suite's reading of "our" Authentication-Results (RFC 8601
// §2.2: [CFWS] authserv-id [CFWS version] [CFWS] ";").
// Go's regexp has no back-references: the quoted and bare forms are spelled out.
var ourResults = regexp.MustCompile(`(?i)^(?:\s|\([^()]*\))*(?:"` + regexp.QuoteMeta(testHost) + `"|` + regexp.QuoteMeta(testHost) + `)(?:(?:\s|\([^()]*\))+\d+)?(?:\s|\([^()]*\))*;`)

// headerValue splits "Name: value\r\n" and checks the field is well formed:
// CRLF-terminated, every continuation line folded, lines under 998 octets.
func headerValue(t *testing.T, field string) string {
	t.Helper()
	if !strings.HasSuffix(field, "\r\n") {
		t.Fatalf("field not CRLF-terminated: %q", field)
	}
	lines := strings.Split(strings.TrimSuffix(field, "\r\n"), "\r\n")
	for i, l := range lines {
		if len(l) > 998 {
			t.Errorf("line %d longer than 998 octets (RFC 5322 §2.1.1)", i)
		}
		if i > 0 && !strings.HasPrefix(l, "\t") && !strings.HasPrefix(l, " ") {
			t.Errorf("line %d not folded: %q", i, l)
		}
		if strings.ContainsAny(l, "\r\n") {
			t.Errorf("bare CR or LF in line %d", i)
		}
	}
	name, value, ok := strings.Cut(field, ":")
	if !ok || name != "Authentication-Results" {
		t.Fatalf("field %q", field)
	}
	return mailheader.Unfold(value)
}

// What the acceptance checks H3 and H7 read: one field of ours, with
// spf=, dkim= and dmarc= results that go-msgauth's parser reads back.
func TestAuthenticationResults(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("brisbane._domainkey.football.example.com", "TXT", rfc8463Ed25519Key)
	srv.Add("test._domainkey.football.example.com", "TXT", rfc8463RSAKey)
	srv.Add("football.example.com", "TXT", "v=spf1 ip4:192.0.2.1 -all")
	srv.Add("_dmarc.football.example.com", "TXT", "v=DMARC1; p=reject; sp=quarantine")
	c := newChecker(t, r, nil)
	v := check(t, c, env("192.0.2.1", "client1.football.example.com", "joe@football.example.com"), rfc8463Message)
	value := headerValue(t, v.Header)
	for _, l := range strings.Split(v.Header, "\r\n") {
		if len(l) > 78 {
			t.Errorf("line of %d octets (RFC 5322 §2.1.1: SHOULD be at most 78): %q", len(l), l)
		}
	}
	if !ourResults.MatchString(value) {
		t.Fatalf("authserv-id not ours: %q", value)
	}
	for m, want := range map[string]string{"spf": "pass", "dkim": "pass", "dmarc": "pass"} {
		if got := resultOf(v.Header, m); got != want {
			t.Errorf("%s=%s, want %s", m, got, want)
		}
	}
	for _, s := range []string{
		"spf=pass smtp.mailfrom=joe@football.example.com",
		"dkim=pass header.a=ed25519-sha256 header.b=/gCrinpc header.d=football.example.com header.i=@football.example.com header.s=brisbane",
		"dkim=pass header.a=rsa-sha256 header.b=F45dVWDf header.d=football.example.com header.i=@football.example.com header.s=test",
		"dmarc=pass (p=reject sp=quarantine) header.from=football.example.com",
	} {
		if !strings.Contains(value, s) {
			t.Errorf("A-R lacks %q:\n%s", s, v.Header)
		}
	}
	id, results, err := authres.Parse(value)
	if err != nil {
		t.Fatalf("authres.Parse: %v", err)
	}
	if id != testHost || len(results) != 5 { // spf mfrom, spf helo, dkim ×2, dmarc
		t.Errorf("parsed %q with %d results: %#v", id, len(results), results)
	}
}

// RFC 6008 §4: header.b is at least 8 characters, and long enough to tell
// the signatures of one message apart.
func TestHeaderB(t *testing.T) {
	got := headerB([]DKIMResult{{B: "abcdefgh1234"}, {B: "abcdefgh5678"}, {B: "zzzzzzzzzzzz"}, {B: "short"}})
	want := []string{"abcdefgh1", "abcdefgh5", "zzzzzzzz", "short"}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("headerB[%d] = %q, want %q", i, got[i], want[i])
		}
	}
}

// A failing policy says so in the A-R comment and reason.
func TestAuthenticationResultsFailure(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("d.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
	srv.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=reject; pct=10")
	c := newChecker(t, r, sample(99))
	v := check(t, c, env(badIP, "", "b@d.test"), message("a@d.test"))
	value := headerValue(t, v.Header)
	for _, s := range []string{"spf=fail smtp.mailfrom=b@d.test", "dkim=none", `dmarc=fail (p=reject dis=quarantine) reason="sampled_out: pct=10" header.from=d.test`} {
		if !strings.Contains(value, s) {
			t.Errorf("A-R lacks %q: %s", s, value)
		}
	}
	if _, _, err := authres.Parse(value); err != nil {
		t.Errorf("authres.Parse: %v", err)
	}
}

func TestNewChecksConfig(t *testing.T) {
	_, r := newDNS(t)
	for _, cfg := range []Config{
		{AuthservID: testHost},
		{Resolver: r},
		{Resolver: r, AuthservID: "bad id;"},
		{Resolver: r, AuthservID: testHost, SPFPolicy: "strict"},
		{Resolver: r, AuthservID: testHost, TrustedARCSealers: []string{"not a domain"}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v): no error", cfg)
		}
	}
	got, err := ParseSealers("lists.example.org, Forwarder.Example.net.")
	if err != nil || strings.Join(got, " ") != "lists.example.org forwarder.example.net" {
		t.Errorf("ParseSealers = %v, %v", got, err)
	}
}
