package mailauth

import (
	"fmt"
	"strings"
	"testing"

	"blitiri.com.ar/go/spf"
)

// SPF cases in the manner of the RFC 7208 test suite that pyspf and
// blitiri.com.ar/go/spf run (a zone, a client, an expected result), written
// for Surat's DNS server and envelope.
func TestSPF(t *testing.T) {
	type rr struct{ name, typ, value string }
	tests := []struct {
		name   string
		zone   []rr
		ip     string
		helo   string
		from   string
		result spf.Result
		domain string // the domain SPF checked, when not the MAIL FROM's
	}{
		{name: "ip4 pass", zone: []rr{{"s.test", "TXT", "v=spf1 ip4:192.0.2.0/24 -all"}},
			ip: "192.0.2.7", from: "a@s.test", result: spf.Pass},
		{name: "-all fail", zone: []rr{{"s.test", "TXT", "v=spf1 ip4:192.0.2.0/24 -all"}},
			ip: "198.51.100.1", from: "a@s.test", result: spf.Fail},
		{name: "~all softfail", zone: []rr{{"s.test", "TXT", "v=spf1 ~all"}},
			ip: "198.51.100.1", from: "a@s.test", result: spf.SoftFail},
		{name: "?all neutral", zone: []rr{{"s.test", "TXT", "v=spf1 ?all"}},
			ip: "198.51.100.1", from: "a@s.test", result: spf.Neutral},
		// RFC 7208 §4.7: no match and no all is neutral.
		{name: "no match, no all", zone: []rr{{"s.test", "TXT", "v=spf1 ip4:192.0.2.1"}},
			ip: "198.51.100.1", from: "a@s.test", result: spf.Neutral},
		// §4.3: no such domain, §4.5: no SPF record.
		{name: "NXDOMAIN none", ip: "192.0.2.1", from: "a@nowhere.test", result: spf.None},
		{name: "no SPF record none", zone: []rr{{"s.test", "TXT", "some other text"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.None},
		// §4.5: two records is a permerror.
		{name: "two records", zone: []rr{{"s.test", "TXT", "v=spf1 -all"}, {"s.test", "TXT", "v=spf1 +all"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.PermError},
		{name: "version case-insensitive", zone: []rr{{"s.test", "TXT", "V=SPF1 ip4:192.0.2.1 -all"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.Pass},
		{name: "unknown mechanism", zone: []rr{{"s.test", "TXT", "v=spf1 foo:bar -all"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.PermError},
		{name: "unknown modifier ignored", zone: []rr{{"s.test", "TXT", "v=spf1 moo=cow ip4:192.0.2.1 -all"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.Pass},
		{name: "a mechanism", zone: []rr{{"s.test", "TXT", "v=spf1 a -all"}, {"s.test", "A", "192.0.2.9"}},
			ip: "192.0.2.9", from: "a@s.test", result: spf.Pass},
		{name: "a with cidr", zone: []rr{{"s.test", "TXT", "v=spf1 a:h.s.test/24 -all"}, {"h.s.test", "A", "192.0.2.200"}},
			ip: "192.0.2.9", from: "a@s.test", result: spf.Pass},
		{name: "mx mechanism", zone: []rr{{"s.test", "TXT", "v=spf1 mx -all"}, {"s.test", "MX", "10 mx.s.test."}, {"mx.s.test", "A", "192.0.2.25"}},
			ip: "192.0.2.25", from: "a@s.test", result: spf.Pass},
		{name: "ip6", zone: []rr{{"s.test", "TXT", "v=spf1 ip6:2001:db8::/32 -all"}},
			ip: "2001:db8::25", from: "a@s.test", result: spf.Pass},
		{name: "include pass", zone: []rr{{"s.test", "TXT", "v=spf1 include:i.test -all"}, {"i.test", "TXT", "v=spf1 ip4:192.0.2.3 -all"}},
			ip: "192.0.2.3", from: "a@s.test", result: spf.Pass},
		// §5.2: an include whose domain has no record is a permerror.
		{name: "include of nothing", zone: []rr{{"s.test", "TXT", "v=spf1 include:gone.test -all"}},
			ip: "192.0.2.3", from: "a@s.test", result: spf.PermError},
		{name: "redirect", zone: []rr{{"s.test", "TXT", "v=spf1 redirect=r.test"}, {"r.test", "TXT", "v=spf1 -all"}},
			ip: "192.0.2.3", from: "a@s.test", result: spf.Fail},
		{name: "exists with macro", zone: []rr{{"s.test", "TXT", "v=spf1 exists:%{i}.ok.s.test -all"}, {"192.0.2.4.ok.s.test", "A", "127.0.0.2"}},
			ip: "192.0.2.4", from: "a@s.test", result: spf.Pass},
		// §2.6.6 / §4.4: a SERVFAIL is a temperror.
		{name: "SERVFAIL temperror", zone: []rr{{"servfail:s.test", "", ""}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.TempError},
		// §2.4: the null path is checked as postmaster@HELO.
		{name: "null path uses HELO", zone: []rr{{"h.test", "TXT", "v=spf1 ip4:192.0.2.5 -all"}},
			ip: "192.0.2.5", helo: "h.test", from: "", result: spf.Pass, domain: "h.test"},
		{name: "null path, HELO fail", zone: []rr{{"h.test", "TXT", "v=spf1 -all"}},
			ip: "192.0.2.5", helo: "h.test", from: "", result: spf.Fail, domain: "h.test"},
		{name: "null path, HELO address literal", ip: "192.0.2.5", helo: "[192.0.2.5]", from: "", result: spf.None, domain: ""},
		// §4.5: "v=spf1" alone is a record with no mechanisms: neutral.
		{name: "empty record", zone: []rr{{"s.test", "TXT", "v=spf1"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.Neutral},
		{name: "bad CIDR", zone: []rr{{"s.test", "TXT", "v=spf1 ip4:192.0.2.0/33 -all"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.PermError},
		// §6.2: exp= does not change the result.
		{name: "exp ignored", zone: []rr{{"s.test", "TXT", "v=spf1 -all exp=e.s.test"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.Fail},
		// §6.1: redirect to a domain without a record is a permerror.
		{name: "redirect to nothing", zone: []rr{{"s.test", "TXT", "v=spf1 redirect=gone.test"}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.PermError},
		// §5.2: an include that meets a temporary error gives temperror.
		{name: "include of a SERVFAIL", zone: []rr{{"s.test", "TXT", "v=spf1 include:i.test -all"}, {"servfail:i.test", "", ""}},
			ip: "192.0.2.1", from: "a@s.test", result: spf.TempError},
		// §5.5: ptr, validated by a forward look-up.
		{name: "ptr", zone: []rr{{"s.test", "TXT", "v=spf1 ptr -all"}, {"192.0.2.77", "PTR", "mail.s.test."}, {"mail.s.test", "A", "192.0.2.77"}},
			ip: "192.0.2.77", from: "a@s.test", result: spf.Pass},
		{name: "ptr not validated", zone: []rr{{"s.test", "TXT", "v=spf1 ptr -all"}, {"192.0.2.78", "PTR", "mail.s.test."}, {"mail.s.test", "A", "192.0.2.77"}},
			ip: "192.0.2.78", from: "a@s.test", result: spf.Fail},
		// §4.6.4: an mx mechanism with more than 10 MX records is a permerror.
		{name: "11 MX", zone: append([]rr{{"s.test", "TXT", "v=spf1 mx -all"}}, func() []rr {
			var out []rr
			for i := range 11 {
				out = append(out, rr{"s.test", "MX", fmt.Sprintf("%d mx%d.s.test.", i, i)})
			}
			return out
		}()...), ip: "192.0.2.1", from: "a@s.test", result: spf.PermError},
		{name: "domain case", zone: []rr{{"s.test", "TXT", "v=spf1 ip4:192.0.2.1 -all"}},
			ip: "192.0.2.1", from: "a@S.Test", result: spf.Pass},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, r := newDNS(t)
			for _, z := range tc.zone {
				if n, ok := strings.CutPrefix(z.name, "servfail:"); ok {
					srv.ServFail(n)
					continue
				}
				srv.Add(z.name, z.typ, z.value)
			}
			c := newChecker(t, r, nil)
			v := check(t, c, env(tc.ip, tc.helo, tc.from), message("x@other.test"))
			if v.SPF.Result != tc.result {
				t.Errorf("SPF = %s (%s), want %s", v.SPF.Result, v.SPF.Reason, tc.result)
			}
			want := tc.domain
			if want == "" && tc.from != "" {
				want = strings.ToLower(tc.from[strings.IndexByte(tc.from, '@')+1:])
			}
			if v.SPF.Domain != want {
				t.Errorf("SPF domain %q, want %q", v.SPF.Domain, want)
			}
			if got := resultOf(v.Header, "spf"); got != string(tc.result) {
				t.Errorf("A-R spf=%s, want %s: %q", got, tc.result, v.Header)
			}
		})
	}
}

// RFC 7208 §4.6.4: at most 10 mechanisms or modifiers that look DNS up,
// and at most 2 look-ups that return nothing; past either, permerror.
func TestSPFLookupLimits(t *testing.T) {
	chain := func(srv interface{ Add(string, string, string) }, n int) {
		// s.test includes i1, i1 includes i2, ... i(n-1) includes in, which passes.
		srv.Add("s.test", "TXT", "v=spf1 include:i1.s.test -all")
		for i := 1; i < n; i++ {
			srv.Add(fmt.Sprintf("i%d.s.test", i), "TXT", fmt.Sprintf("v=spf1 include:i%d.s.test -all", i+1))
		}
		srv.Add(fmt.Sprintf("i%d.s.test", n), "TXT", "v=spf1 ip4:192.0.2.1 -all")
	}
	tests := []struct {
		name   string
		setup  func(srv interface{ Add(string, string, string) })
		result spf.Result
	}{
		{"10 includes", func(s interface{ Add(string, string, string) }) { chain(s, 10) }, spf.Pass},
		{"11 includes", func(s interface{ Add(string, string, string) }) { chain(s, 11) }, spf.PermError},
		{"2 void look-ups", func(s interface{ Add(string, string, string) }) {
			s.Add("s.test", "TXT", "v=spf1 a:v1.s.test a:v2.s.test ip4:192.0.2.1 -all")
		}, spf.Pass},
		{"3 void look-ups", func(s interface{ Add(string, string, string) }) {
			s.Add("s.test", "TXT", "v=spf1 a:v1.s.test a:v2.s.test a:v3.s.test ip4:192.0.2.1 -all")
		}, spf.PermError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, r := newDNS(t)
			tc.setup(srv)
			c := newChecker(t, r, nil)
			v := check(t, c, env("192.0.2.1", "", "a@s.test"), message("a@s.test"))
			if v.SPF.Result != tc.result {
				t.Fatalf("SPF = %s (%s), want %s", v.SPF.Result, v.SPF.Reason, tc.result)
			}
			if tc.result == spf.PermError && !strings.Contains(v.SPF.Reason, "RFC 7208 §4.6.4") {
				t.Errorf("reason %q does not name the limit", v.SPF.Reason)
			}
		})
	}
}

// RFC 7208 §2.3: the HELO identity is checked on its own and reported as
// its own result; the MAIL FROM result is the one DMARC uses.
func TestSPFHELO(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("s.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
	srv.Add("relay.h.test", "TXT", "v=spf1 -all")
	c := newChecker(t, r, nil)
	v := check(t, c, env("192.0.2.1", "relay.h.test", "a@s.test"), message("a@s.test"))
	if v.SPF.Result != spf.Pass || v.HELO == nil || v.HELO.Result != spf.Fail || v.HELO.Domain != "relay.h.test" {
		t.Fatalf("SPF %+v HELO %+v", v.SPF, v.HELO)
	}
	if !strings.Contains(v.Header, "spf=pass smtp.mailfrom=a@s.test") || !strings.Contains(v.Header, "spf=fail smtp.helo=relay.h.test") {
		t.Errorf("A-R %q", v.Header)
	}
	// A HELO that is no domain is not checked.
	v = check(t, c, env("192.0.2.1", "[192.0.2.1]", "a@s.test"), message("a@s.test"))
	if v.HELO != nil {
		t.Errorf("HELO checked: %+v", v.HELO)
	}
}

// --spf-policy none: SPF is not looked up at all.
func TestSPFPolicyNoneAsksNothing(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("s.test", "TXT", "v=spf1 -all")
	c := newChecker(t, r, func(cfg *Config) { cfg.SPFPolicy = SPFPolicyNone })
	v := check(t, c, env("192.0.2.1", "h.s.test", "a@s.test"), message("a@s.test"))
	if v.SPF.Result != spf.None {
		t.Errorf("SPF = %s", v.SPF.Result)
	}
	if n := srv.Count("s.test", "TXT") + srv.Count("h.s.test", "TXT"); n != 0 {
		t.Errorf("%d SPF look-ups with --spf-policy none", n)
	}
}

func TestParseSPFPolicy(t *testing.T) {
	for in, want := range map[string]SPFPolicy{"": SPFPolicyDMARC, "dmarc": SPFPolicyDMARC, "REJECT": SPFPolicyReject, " none ": SPFPolicyNone} {
		if got, err := ParseSPFPolicy(in); err != nil || got != want {
			t.Errorf("ParseSPFPolicy(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseSPFPolicy("strict"); err == nil {
		t.Error("ParseSPFPolicy(strict): no error")
	}
}
