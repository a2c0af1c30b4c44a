package mailauth

import (
	"context"
	"net/netip"
	"reflect"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

// The sending side of the DMARC cases: d.test sends from 192.0.2.1 (SPF),
// signs with key "k" of d.test, and other.test signs with its own key.
const (
	goodIP = "192.0.2.1"
	badIP  = "198.51.100.9"
)

type dmarcCase struct {
	name    string
	records map[string]string // _dmarc name → record; "SERVFAIL" makes it fail
	zone    func(srv *dnstest.Server)
	ip      string
	from    string // MAIL FROM
	header  string // From address
	signer  string // "" unsigned, or the d= of the signature (d.test, other.test, sub.d.test)
	cfg     func(*Config)
	rcpts   []string

	action   Action
	enhanced [3]int
	result   string // dmarc result of the first author domain
	applied  string
	override string // an override type expected on the first result
}

func (tc dmarcCase) run(t *testing.T) *Verdict {
	t.Helper()
	srv, r := newDNS(t)
	srv.Add("d.test", "TXT", "v=spf1 ip4:"+goodIP+" -all")
	srv.Add("bounce.d.test", "TXT", "v=spf1 ip4:"+goodIP+" -all")
	srv.Add("d.test", "A", "192.0.2.80")
	srv.Add("sub.d.test", "A", "192.0.2.81")
	srv.Add("other.test", "TXT", "v=spf1 ip4:"+goodIP+" -all")
	signers := map[string]signer{
		"d.test":     newEd25519(t, srv, "d.test", "k"),
		"sub.d.test": newEd25519(t, srv, "sub.d.test", "k"),
		"other.test": newEd25519(t, srv, "other.test", "k"),
	}
	for name, rec := range tc.records {
		if rec == "SERVFAIL" {
			srv.ServFail(name)
			continue
		}
		srv.Add(name, "TXT", rec)
	}
	if tc.zone != nil {
		tc.zone(srv)
	}
	c := newChecker(t, r, tc.cfg)
	msg := message(tc.header)
	if tc.signer != "" {
		msg = signers[tc.signer].sign(t, msg)
	}
	e := env(tc.ip, "", tc.from)
	if tc.rcpts != nil {
		e.RecipientDomains = tc.rcpts
	}
	v := check(t, c, e, msg)
	if v.Action != tc.action {
		t.Errorf("action %s, want %s; reply %+v; dmarc %+v; A-R %q", v.Action, tc.action, v.Reply, v.DMARC, v.Header)
	}
	if tc.enhanced != [3]int{} && v.Reply.Enhanced != tc.enhanced {
		t.Errorf("reply %+v, want enhanced %v", v.Reply, tc.enhanced)
	}
	switch tc.action {
	case Reject:
		if v.Reply.Code/100 != 5 {
			t.Errorf("reject with %d", v.Reply.Code)
		}
	case TempFail:
		if v.Reply.Code != 451 || v.Reply.Enhanced != [3]int{4, 4, 3} {
			t.Errorf("tempfail with %+v, want 451 4.4.3", v.Reply)
		}
	default:
		if v.Reply.Code != 0 {
			t.Errorf("reply %+v for %s", v.Reply, v.Action)
		}
	}
	if tc.result != "" {
		if len(v.DMARC) == 0 || v.DMARC[0].Result != tc.result {
			t.Errorf("dmarc %+v, want result %s", v.DMARC, tc.result)
		} else if got := resultOf(v.Header, "dmarc"); got != tc.result {
			t.Errorf("A-R dmarc=%s, want %s: %q", got, tc.result, v.Header)
		}
	}
	if tc.applied != "" && (len(v.DMARC) == 0 || v.DMARC[0].Applied != tc.applied) {
		t.Errorf("dmarc %+v, want applied %s", v.DMARC, tc.applied)
	}
	if tc.override != "" {
		found := false
		if len(v.DMARC) > 0 {
			for _, o := range v.DMARC[0].Overrides {
				found = found || o.Type == tc.override
			}
		}
		if !found {
			t.Errorf("dmarc %+v, want override %s", v.DMARC, tc.override)
		}
	}
	return v
}

func sample(n int) func(*Config) {
	return func(c *Config) { c.Sample = func() int { return n } }
}

// RFC 7489 §3.1 identifier alignment, relaxed and strict, for SPF and DKIM.
func TestDMARCAlignment(t *testing.T) {
	reject := map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"}
	strictSPF := map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject; aspf=s"}
	strictDKIM := map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject; adkim=s"}
	tests := []dmarcCase{
		{name: "SPF pass, same domain", records: reject, ip: goodIP, from: "b@d.test", header: "a@d.test", action: Accept, result: "pass"},
		{name: "SPF pass, subdomain, relaxed", records: reject, ip: goodIP, from: "b@bounce.d.test", header: "a@d.test", action: Accept, result: "pass"},
		{name: "SPF pass, subdomain, strict", records: strictSPF, ip: goodIP, from: "b@bounce.d.test", header: "a@d.test", action: Reject, result: "fail"},
		{name: "SPF pass, other domain", records: reject, ip: goodIP, from: "b@other.test", header: "a@d.test", action: Reject, enhanced: [3]int{5, 7, 1}, result: "fail"},
		{name: "SPF fail", records: reject, ip: badIP, from: "b@d.test", header: "a@d.test", action: Reject, result: "fail", applied: "reject"},
		{name: "DKIM pass, same domain", records: reject, ip: badIP, from: "b@d.test", header: "a@d.test", signer: "d.test", action: Accept, result: "pass"},
		{name: "DKIM pass, parent domain, relaxed", records: map[string]string{"_dmarc.sub.d.test": "v=DMARC1; p=reject"},
			ip: badIP, from: "b@x.test", header: "a@sub.d.test", signer: "d.test", action: Accept, result: "pass"},
		{name: "DKIM pass, parent domain, strict", records: map[string]string{"_dmarc.sub.d.test": "v=DMARC1; p=reject; adkim=s"},
			ip: badIP, from: "b@x.test", header: "a@sub.d.test", signer: "d.test", action: Reject, result: "fail"},
		{name: "DKIM pass, subdomain, strict", records: strictDKIM, ip: badIP, from: "b@x.test", header: "a@d.test", signer: "sub.d.test", action: Reject, result: "fail"},
		{name: "DKIM pass, other domain", records: reject, ip: badIP, from: "b@x.test", header: "a@d.test", signer: "other.test", action: Reject, result: "fail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// The organizational domain comes from the Public Suffix List (RFC 7489
// §3.2): two registrations under co.uk are not aligned, two names under one
// registration are.
func TestOrgDomain(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"mail.example.co.uk", "example.co.uk", true},
		{"example.co.uk", "other.co.uk", false},
		{"a.b.example.com", "example.com", true},
		{"EXAMPLE.com.", "example.com", true},
		{"co.uk", "co.uk", true},
		{"", "example.com", false},
	} {
		if got := aligned(tc.a, tc.b, "r"); got != tc.want {
			t.Errorf("aligned(%q, %q, relaxed) = %v", tc.a, tc.b, got)
		}
	}
	if aligned("mail.example.com", "example.com", "s") {
		t.Error("strict alignment of a subdomain")
	}
}

// RFC 7489 §6.3 p=, sp=; §6.6.4 pct=; DMARCbis np= and t=; §6.6.3 record
// discovery.
func TestDMARCPolicy(t *testing.T) {
	fail := func(tc dmarcCase) dmarcCase {
		tc.ip, tc.from = badIP, "b@d.test"
		if tc.header == "" {
			tc.header = "a@d.test"
		}
		return tc
	}
	tests := []dmarcCase{
		fail(dmarcCase{name: "p=none", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=none"}, action: Accept, result: "fail", applied: "none"}),
		fail(dmarcCase{name: "p=quarantine", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=quarantine"}, action: Junk, result: "fail", applied: "quarantine"}),
		fail(dmarcCase{name: "p=reject", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"}, action: Reject, enhanced: [3]int{5, 7, 1}, result: "fail", applied: "reject"}),
		fail(dmarcCase{name: "keywords in upper case", records: map[string]string{"_dmarc.d.test": "v=DMARC1; P=REJECT"}, action: Reject, result: "fail"}),
		fail(dmarcCase{name: "no record", action: Accept, result: "none"}),
		fail(dmarcCase{name: "not a DMARC record", records: map[string]string{"_dmarc.d.test": "v=spf1 -all"}, action: Accept, result: "none"}),
		// §6.6.3 step 3: two records, no DMARC processing.
		fail(dmarcCase{name: "two records", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"}, zone: func(s *dnstest.Server) {
			s.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=none")
		}, action: Accept, result: "none"}),
		// §6.6.3 step 6: an invalid p= with a rua= is p=none.
		fail(dmarcCase{name: "invalid p with rua", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=bogus; rua=mailto:r@d.test"}, action: Accept, result: "fail", applied: "none"}),
		fail(dmarcCase{name: "invalid p without rua", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=bogus"}, action: Accept, result: "none"}),
		// Subdomains: the organizational domain's record, sp= first.
		fail(dmarcCase{name: "subdomain takes p", header: "a@sub.d.test", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"}, action: Reject, result: "fail"}),
		fail(dmarcCase{name: "subdomain takes sp", header: "a@sub.d.test", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject; sp=quarantine"}, action: Junk, result: "fail"}),
		fail(dmarcCase{name: "subdomain's own record", header: "a@sub.d.test", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject", "_dmarc.sub.d.test": "v=DMARC1; p=none"}, action: Accept, result: "fail"}),
		// DMARCbis np=: a subdomain with no A, AAAA or MX.
		fail(dmarcCase{name: "np for a missing subdomain", header: "a@ghost.d.test", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=none; sp=none; np=reject"}, action: Reject, result: "fail"}),
		fail(dmarcCase{name: "np not for an existing subdomain", header: "a@sub.d.test", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=none; sp=none; np=reject"}, action: Accept, result: "fail"}),
		fail(dmarcCase{name: "np not for the domain itself", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=none; np=reject"}, action: Accept, result: "fail"}),
		// §6.6.4: pct= samples; the sampled-out messages get the next policy down.
		fail(dmarcCase{name: "pct sampled in", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject; pct=50"}, cfg: sample(49), action: Reject, result: "fail"}),
		fail(dmarcCase{name: "pct sampled out: reject to quarantine", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject; pct=50"}, cfg: sample(50),
			action: Junk, result: "fail", applied: "quarantine", override: "sampled_out"}),
		fail(dmarcCase{name: "pct sampled out: quarantine to none", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=quarantine; pct=0"}, cfg: sample(0),
			action: Accept, result: "fail", applied: "none", override: "sampled_out"}),
		fail(dmarcCase{name: "DMARCbis t=y", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject; t=y"}, action: Junk, result: "fail", override: "policy_test_mode"}),
		// RFC 7489 §6.6.1: every author domain; the strictest wins.
		{name: "two From domains", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"},
			ip: goodIP, from: "b@other.test", header: "a@other.test>, <ceo@d.test", action: Reject, result: "none"},
		{name: "no From", ip: goodIP, from: "b@d.test", header: "", action: Accept},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// A temporary DNS error never gives a 5xx (RFC 7489 §6.6.3); it defers only
// when a retry could change what happens.
func TestDMARCTemporaryErrors(t *testing.T) {
	tests := []dmarcCase{
		{name: "SERVFAIL at _dmarc, SPF fail", records: map[string]string{"_dmarc.d.test": "SERVFAIL"},
			ip: badIP, from: "b@d.test", header: "a@d.test", action: TempFail, result: "temperror"},
		{name: "SERVFAIL at _dmarc, SPF strictly aligned pass", records: map[string]string{"_dmarc.d.test": "SERVFAIL"},
			ip: goodIP, from: "b@d.test", header: "a@d.test", action: Accept, result: "pass"},
		{name: "SERVFAIL at the organizational domain", header: "a@sub.d.test", records: map[string]string{"_dmarc.d.test": "SERVFAIL"},
			ip: badIP, from: "b@d.test", action: TempFail, result: "temperror"},
		{name: "SERVFAIL for an aligned DKIM key, p=reject", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"},
			zone: func(s *dnstest.Server) { s.ServFail("k._domainkey.d.test") },
			ip:   badIP, from: "b@d.test", header: "a@d.test", signer: "d.test", action: TempFail, result: "temperror"},
		{name: "SERVFAIL for an aligned DKIM key, p=none", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=none"},
			zone: func(s *dnstest.Server) { s.ServFail("k._domainkey.d.test") },
			ip:   badIP, from: "b@d.test", header: "a@d.test", signer: "d.test", action: Accept, result: "temperror"},
		{name: "SERVFAIL for SPF, p=quarantine", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=quarantine"},
			zone: func(s *dnstest.Server) { s.ServFail("bounce.d.test") },
			ip:   goodIP, from: "b@bounce.d.test", header: "a@d.test", action: TempFail, result: "temperror"},
		{name: "SERVFAIL for an unaligned SPF domain", records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"},
			zone: func(s *dnstest.Server) { s.ServFail("other.test") },
			ip:   goodIP, from: "b@other.test", header: "a@d.test", action: Reject, result: "fail"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// Report-only recipient domains (Config.Enforce): their mail is never
// refused or junked for DMARC; with mixed recipients the message goes to
// Junk, and Domains says which.
func TestDMARCReportOnly(t *testing.T) {
	reportOnly := func(c *Config) { c.Enforce = func(d string) bool { return d != "lenient.test" } }
	reject := map[string]string{"_dmarc.d.test": "v=DMARC1; p=reject"}
	tc := dmarcCase{name: "report-only", records: reject, ip: badIP, from: "b@d.test", header: "a@d.test",
		cfg: reportOnly, rcpts: []string{"lenient.test"}, action: Accept, result: "fail", applied: "none", override: "local_policy"}
	v := tc.run(t)
	if v.Records[0].Disposition != "none" {
		t.Errorf("report disposition %q", v.Records[0].Disposition)
	}
	tc = dmarcCase{name: "mixed", records: reject, ip: badIP, from: "b@d.test", header: "a@d.test",
		cfg: reportOnly, rcpts: []string{"lenient.test", "strict.test"}, action: Junk, result: "fail", applied: "quarantine", override: "local_policy"}
	v = tc.run(t)
	if want := map[string]Action{"lenient.test": Accept, "strict.test": Junk}; !reflect.DeepEqual(v.Domains, want) {
		t.Errorf("Domains = %v, want %v", v.Domains, want)
	}
	// A temporary failure is still deferred: the message comes back.
	tc = dmarcCase{name: "mixed tempfail", records: map[string]string{"_dmarc.d.test": "SERVFAIL"}, ip: badIP, from: "b@d.test", header: "a@d.test",
		cfg: reportOnly, rcpts: []string{"lenient.test", "strict.test"}, action: TempFail, result: "temperror"}
	tc.run(t)
}

// --spf-policy reject and the default, dmarc.
func TestSPFPolicy(t *testing.T) {
	rejectPolicy := func(c *Config) { c.SPFPolicy = SPFPolicyReject }
	tests := []dmarcCase{
		{name: "dmarc: SPF fail without DMARC is only recorded", ip: badIP, from: "b@d.test", header: "a@d.test", action: Accept, result: "none"},
		{name: "reject: SPF fail", cfg: rejectPolicy, ip: badIP, from: "b@d.test", header: "a@d.test", action: Reject, enhanced: [3]int{5, 7, 23}},
		{name: "reject: SPF fail with an aligned DKIM pass", cfg: rejectPolicy, ip: badIP, from: "b@d.test", header: "a@d.test", signer: "d.test", action: Accept},
		{name: "reject: SPF fail with an unaligned DKIM pass", cfg: rejectPolicy, ip: badIP, from: "b@d.test", header: "a@d.test", signer: "other.test", action: Reject, enhanced: [3]int{5, 7, 23}},
		{name: "reject: SPF softfail", cfg: rejectPolicy, zone: func(s *dnstest.Server) { s.Add("soft.test", "TXT", "v=spf1 ~all") },
			ip: badIP, from: "b@soft.test", header: "a@soft.test", action: Accept},
		{name: "reject: SPF temperror", cfg: rejectPolicy, zone: func(s *dnstest.Server) { s.ServFail("broken.test") },
			ip: badIP, from: "b@broken.test", header: "a@broken.test", action: TempFail},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.run(t) })
	}
}

// fakeARC is an ARCVerifier that returns a fixed result; it counts the
// bytes it was fed, which must be the whole message.
type fakeARC struct {
	res ARCResult
	n   *int
}

func (f fakeARC) Start() ARCRun { return &fakeARCRun{f: f} }

type fakeARCRun struct{ f fakeARC }

func (r *fakeARCRun) Write(p []byte) (int, error) {
	if r.f.n != nil {
		*r.f.n += len(p)
	}
	return len(p), nil
}

func (r *fakeARCRun) Finish(context.Context) ARCResult { return r.f.res }

// ARC overrides a DMARC failure when the chain passes, the newest sealer
// is trusted, and the oldest set of the trusted run saw dmarc=pass.
func TestDMARCARCOverride(t *testing.T) {
	sets := func(s ...string) []ARCSet { // sealer:dmarc pairs, oldest first
		var out []ARCSet
		for i, x := range s {
			sealer, dmarc, _ := strings.Cut(x, ":")
			out = append(out, ARCSet{Instance: i + 1, Sealer: sealer, DMARC: dmarc})
		}
		return out
	}
	tests := []struct {
		name   string
		res    ARCResult
		action Action
	}{
		{"trusted sealer saw pass", ARCResult{Chain: ARCPass, Sets: sets("lists.test:pass")}, Accept},
		{"two trusted, the oldest saw pass", ARCResult{Chain: ARCPass, Sets: sets("lists.test:pass", "FWD.test:fail")}, Accept},
		{"untrusted then trusted that saw fail", ARCResult{Chain: ARCPass, Sets: sets("evil.test:pass", "lists.test:fail")}, Reject},
		{"untrusted then trusted that saw pass", ARCResult{Chain: ARCPass, Sets: sets("evil.test:fail", "lists.test:pass")}, Accept},
		{"newest sealer untrusted", ARCResult{Chain: ARCPass, Sets: sets("lists.test:pass", "evil.test:pass")}, Reject},
		{"chain fails", ARCResult{Chain: ARCFail, Sets: sets("lists.test:pass")}, Reject},
		{"trusted sealer saw fail", ARCResult{Chain: ARCPass, Sets: sets("lists.test:fail")}, Reject},
		{"chain temperror, trusted sealer", ARCResult{Chain: ARCTempError, Sets: sets("lists.test:pass")}, TempFail},
		{"chain temperror, untrusted sealer", ARCResult{Chain: ARCTempError, Sets: sets("evil.test:pass")}, Reject},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, r := newDNS(t)
			srv.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=reject")
			var fed int
			c := newChecker(t, r, func(c *Config) {
				c.ARC = fakeARC{tc.res, &fed}
				c.TrustedARCSealers = []string{"lists.test", "fwd.test"}
			})
			msg := "ARC-Seal: i=1; a=rsa-sha256; cv=none; d=lists.test; s=k; b=x\r\n" + message("a@d.test")
			v := check(t, c, env(badIP, "", "b@lists.test"), msg)
			if v.Action != tc.action {
				t.Fatalf("action %s, want %s: %+v %q", v.Action, tc.action, v.DMARC, v.Header)
			}
			if fed != len(msg) {
				t.Errorf("the verifier was fed %d bytes of %d", fed, len(msg))
			}
			if tc.action == Accept {
				if !strings.Contains(v.Header, "override=arc") || !strings.Contains(v.Header, "arc=pass") ||
					v.DMARC[0].Result != "fail" || v.DMARC[0].Overrides[0].Type != "local_policy" {
					t.Errorf("%+v %q", v.DMARC, v.Header)
				}
			}
		})
	}
}

// The aggregate-report record (RFC 7489 Appendix C) of one message.
func TestDMARCRecord(t *testing.T) {
	tc := dmarcCase{records: map[string]string{"_dmarc.d.test": "v=DMARC1; p=quarantine; rua=mailto:agg@d.test; adkim=s"},
		ip: goodIP, from: "b@bounce.d.test", header: "a@d.test", signer: "other.test", action: Accept, result: "pass"}
	v := tc.run(t)
	if len(v.Records) != 1 {
		t.Fatalf("%d records", len(v.Records))
	}
	got := v.Records[0]
	want := Record{
		SourceIP: netip.MustParseAddr(goodIP), HeaderFrom: "d.test", EnvelopeFrom: "bounce.d.test", EnvelopeTo: []string{"surat.test"},
		Policy: &Policy{Domain: "d.test", P: "quarantine", ADKIM: "s", ASPF: "r", Pct: 100, RUA: []string{"mailto:agg@d.test"}},
		Result: "pass", Disposition: "none", SPFAligned: true,
		DKIM: []DKIMAuth{{Domain: "other.test", Selector: "k", Result: "pass"}},
		SPF:  []SPFAuth{{Domain: "bounce.d.test", Scope: ScopeMailFrom, Result: "pass"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record\n got %+v\nwant %+v", got, want)
	}
}
