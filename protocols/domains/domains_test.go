package domains

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"log/slog"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

var day = time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)

var (
	keysOnce sync.Once
	testKeys []*evlog.DkimKey
)

// keys generates one Ed25519 and one RSA-2048 key once per test binary.
func keys(t *testing.T) []*evlog.DkimKey {
	t.Helper()
	keysOnce.Do(func() {
		k, err := NewKeys(day, nil)
		if err != nil {
			t.Fatal(err)
		}
		testKeys = k
	})
	if testKeys == nil {
		t.Fatal("no test keys")
	}
	return testKeys
}

func TestNewKeys(t *testing.T) {
	ks := keys(t)
	if len(ks) != 2 || ks[0].GetSelector() != "20261202e" || ks[1].GetSelector() != "20261202r" {
		t.Fatalf("selectors %v %v", ks[0].GetSelector(), ks[1].GetSelector())
	}
	for _, k := range ks {
		s, err := Signer(k)
		if err != nil {
			t.Fatal(err)
		}
		switch p := s.(type) {
		case ed25519.PrivateKey:
			if k.GetAlgorithm() != evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519 {
				t.Errorf("%s: Ed25519 key as %v", k.GetSelector(), k.GetAlgorithm())
			}
		case *rsa.PrivateKey:
			if k.GetAlgorithm() != evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA || p.N.BitLen() != RSABits {
				t.Errorf("%s: RSA key of %d bits as %v", k.GetSelector(), p.N.BitLen(), k.GetAlgorithm())
			}
		}
		if k.GetCreatedUnix() != day.Unix() {
			t.Errorf("%s: created %d", k.GetSelector(), k.GetCreatedUnix())
		}
	}
	// A rotation the same day does not reuse a selector.
	rec := &evlog.DomainRecord{Domain: "example.test", DkimKeys: ks}
	evs, err := Rotated(rec, day.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var sels []string
	for _, e := range evs {
		if e.GetDkimKeyAdded().GetDomain() != "example.test" {
			t.Errorf("rotation event %v", e)
		}
		sels = append(sels, e.GetDkimKeyAdded().GetKey().GetSelector())
	}
	if !slices.Equal(sels, []string{"20261202e2", "20261202r2"}) {
		t.Fatalf("rotated selectors %v", sels)
	}
	// A key whose algorithm does not match its bytes is refused.
	bad := &evlog.DkimKey{Selector: "x", Algorithm: evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA, PrivateKey: ks[0].GetPrivateKey()}
	if _, err := Signer(bad); err == nil {
		t.Fatal("an Ed25519 key passed as RSA")
	}
}

// zone parses the records' zone-file lines back with miekg/dns.
func zone(t *testing.T, lines string) []dns.RR {
	t.Helper()
	zp := dns.NewZoneParser(strings.NewReader(lines), ".", "")
	var out []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		out = append(out, rr)
	}
	if err := zp.Err(); err != nil {
		t.Fatalf("zone lines do not parse: %v\n%s", err, lines)
	}
	return out
}

func printed(t *testing.T, rec *evlog.DomainRecord) string {
	t.Helper()
	rs, err := Records(rec, "mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	return Zone(rs)
}

func TestRecords(t *testing.T) {
	ks := keys(t)
	rec := &evlog.DomainRecord{Domain: "example.test", DkimKeys: ks}
	text := printed(t, rec)
	rrs := zone(t, text)
	byName := map[string][]dns.RR{}
	for _, rr := range rrs {
		if rr.Header().Ttl != TTL || rr.Header().Class != dns.ClassINET {
			t.Errorf("%v: TTL or class", rr)
		}
		byName[rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype]] = append(byName[rr.Header().Name+" "+dns.TypeToString[rr.Header().Rrtype]], rr)
	}
	txt := func(name string) []string {
		var out []string
		for _, rr := range byName[name+" TXT"] {
			for _, s := range rr.(*dns.TXT).Txt {
				if len(s) > 255 {
					t.Errorf("%s: a string of %d bytes", name, len(s))
				}
			}
			out = append(out, strings.Join(rr.(*dns.TXT).Txt, ""))
		}
		return out
	}
	if mx := byName["example.test. MX"]; len(mx) != 1 || mx[0].(*dns.MX).Mx != "mx.example.test." {
		t.Errorf("MX %v", mx)
	}
	if got := txt("example.test."); !slices.Equal(got, []string{SPF}) {
		t.Errorf("SPF %q", got)
	}
	for _, k := range ks {
		got := txt(k.GetSelector() + "._domainkey.example.test.")
		if len(got) != 1 {
			t.Fatalf("%s: %d key records", k.GetSelector(), len(got))
		}
		tv := tags(got[0])
		der, err := base64.StdEncoding.DecodeString(tv["p"])
		if err != nil || tv["v"] != "DKIM1" {
			t.Fatalf("%s: %q: %v", k.GetSelector(), got[0], err)
		}
		s, _ := Signer(k)
		switch pub := s.Public().(type) {
		case ed25519.PublicKey:
			if tv["k"] != "ed25519" || !bytes.Equal(der, pub) {
				t.Errorf("%s: ed25519 record %q", k.GetSelector(), got[0])
			}
		case *rsa.PublicKey:
			parsed, err := x509.ParsePKIXPublicKey(der)
			if tv["k"] != "rsa" || err != nil || !pub.Equal(parsed) {
				t.Errorf("%s: rsa record %q: %v", k.GetSelector(), got[0], err)
			}
			if len(byName[k.GetSelector()+"._domainkey.example.test. TXT"][0].(*dns.TXT).Txt) < 2 {
				t.Errorf("%s: an RSA-2048 record in one string", k.GetSelector())
			}
		}
	}
	if got := txt("_dmarc.example.test."); len(got) != 1 || got[0] != "v=DMARC1; p=reject; rua=mailto:postmaster@example.test" {
		t.Errorf("DMARC %q", got)
	}
	if got := txt("_smtp._tls.example.test."); len(got) != 1 || !strings.HasPrefix(got[0], "v=TLSRPTv1; rua=mailto:") {
		t.Errorf("TLS-RPT %q", got)
	}
	if got := byName["_mta-sts.example.test. TXT"]; got != nil {
		t.Errorf("MTA-STS record while off: %v", got)
	}
	if srv := byName["_submissions._tcp.example.test. SRV"]; len(srv) != 1 || srv[0].(*dns.SRV).Port != 465 || srv[0].(*dns.SRV).Target != "mx.example.test." {
		t.Errorf("submissions SRV %v", srv)
	}
	if srv := byName["_imap._tcp.example.test. SRV"]; len(srv) != 1 || srv[0].(*dns.SRV).Target != "." {
		t.Errorf("imap SRV %v", srv)
	}
	if c := byName["autoconfig.example.test. CNAME"]; len(c) != 1 || c[0].(*dns.CNAME).Target != "mx.example.test." {
		t.Errorf("autoconfig %v", c)
	}

	// Settings: the DMARC policy printed, MTA-STS when on, its id from
	// the last change.
	rec.DmarcPolicy = "quarantine"
	rec.MtaStsMode = evlog.MtaStsMode_MTA_STS_MODE_ENFORCE
	rec.SettingsUnix = day.Unix()
	text = printed(t, rec)
	for _, want := range []string{
		`_dmarc.example.test. 3600 IN TXT "v=DMARC1; p=quarantine; rua=mailto:postmaster@example.test"`,
		`_mta-sts.example.test. 3600 IN TXT "v=STSv1; id=20261202080000"`,
		`mta-sts.example.test. 3600 IN CNAME mx.example.test.`,
	} {
		if !strings.Contains(text, want+"\n") {
			t.Errorf("no line %q in\n%s", want, text)
		}
	}
	if _, err := Records(rec, ""); err == nil {
		t.Error("records without a host name")
	}
}

func TestQuoteTXT(t *testing.T) {
	long := strings.Repeat("a", 254) + `"` + strings.Repeat("b", 300)
	rrs := zone(t, Record{Name: "x.test.", Type: "TXT", Data: long}.String()+"\n"+
		Record{Name: "y.test.", Type: "TXT", Data: `a\b"c`}.String()+"\n")
	if got := rrs[0].(*dns.TXT).Txt; len(got) != 3 || len(got[0]) != 256 || got[0][254:] != `\"` {
		// miekg/dns keeps the escapes in Txt: 255 bytes with one escaped.
		t.Errorf("split %d strings: %q", len(got), got)
	}
	if got := rrs[1].(*dns.TXT).Txt; len(got) != 1 || got[0] != `a\\b\"c` {
		t.Errorf("escapes %q", got)
	}
	if got := (Record{Name: "z.test.", Type: "TXT"}).String(); got != `z.test. 3600 IN TXT ""` {
		t.Errorf("empty TXT %q", got)
	}
}

// resolver asks only srv.
func resolver(srv *dnstest.Server) *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, srv.Addr())
	}}
}

func TestCheck(t *testing.T) {
	ks := keys(t)
	rec := &evlog.DomainRecord{Domain: "example.test", DkimKeys: ks}
	records, err := Records(rec, "mx.example.test")
	if err != nil {
		t.Fatal(err)
	}
	srv := dnstest.Start(t)
	r := resolver(srv)
	ctx := context.Background()

	// Nothing published: every record is missing, but the SRV ones that
	// say "not offered".
	srv.Add("mx.example.test", "A", "192.0.2.10")
	problems := Check(ctx, r, records)
	if len(problems) != len(records)-3 {
		t.Errorf("%d problems for %d records: %v", len(problems), len(records), problems)
	}
	for _, p := range problems {
		if p.What != "missing" {
			t.Errorf("%s", p)
		}
	}

	// Published as printed: nothing to report.
	if err := srv.AddZone(printed(t, rec)); err != nil {
		t.Fatal(err)
	}
	srv.Add("mx.example.test", "A", "192.0.2.10")
	if problems := Check(ctx, r, records); len(problems) != 0 {
		t.Fatalf("published as printed, still: %v", problems)
	}

	// Wrong: another DKIM key, a second SPF record, an MX elsewhere.
	other, err := NewKeys(day, nil)
	if err != nil {
		t.Fatal(err)
	}
	otherRec, _ := KeyRecord(other[0])
	srv.Remove(ks[0].GetSelector()+"._domainkey.example.test", "TXT")
	srv.Add(ks[0].GetSelector()+"._domainkey.example.test", "TXT", otherRec)
	srv.Add("example.test", "TXT", "v=spf1 a -all")
	srv.Remove("example.test", "MX")
	srv.Add("example.test", "MX", "10 mail.elsewhere.test.")
	srv.Remove("_dmarc.example.test", "TXT")
	srv.Add("_dmarc.example.test", "TXT", "v=DMARC1; p=none")
	got := map[string]string{}
	for _, p := range Check(ctx, r, records) {
		got[p.Record.Name+" "+p.Record.Type] = p.What
	}
	want := map[string]string{
		"example.test. MX":  "wrong: MX names mail.elsewhere.test., not mx.example.test.",
		"example.test. TXT": "wrong: 2 v=spf1 records, want exactly one",
		ks[0].GetSelector() + "._domainkey.example.test. TXT": "wrong: publishes another key (p=) than Surat signs with",
		"_dmarc.example.test. TXT":                            `differs: published "v=DMARC1; p=none"`,
	}
	if len(got) != len(want) {
		t.Errorf("problems %v", got)
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}

	// A server failure is not "missing": it is reported as not checked.
	srv.ServFail("_smtp._tls.example.test")
	for _, p := range Check(ctx, r, records) {
		if p.Record.Name == "_smtp._tls.example.test." && !strings.HasPrefix(p.What, "not checked: ") {
			t.Errorf("SERVFAIL: %s", p)
		}
	}
}

func TestSeed(t *testing.T) {
	st := mailboxtest.Open(t)
	// One domain is there already (with keys another node made).
	ev, err := Added("b.test", day)
	if err != nil {
		t.Fatal(err)
	}
	st.Must(t, ev)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err = Seed(ctx, SeedConfig{Domains: []string{"a.test", "b.test"}, Store: st.Store, Cluster: st,
		Now: func() time.Time { return day }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{"a.test", "b.test"} {
		rec, err := st.Store.Domain(d)
		if err != nil || len(rec.GetDkimKeys()) != 2 {
			t.Fatalf("%s after seeding: %v %v", d, rec, err)
		}
	}
	b, _ := st.Store.Domain("b.test")
	if !bytes.Equal(b.GetDkimKeys()[0].GetPrivateKey(), ev.GetDomainAdded().GetDkimKeys()[0].GetPrivateKey()) {
		t.Fatal("seeding replaced the keys of a domain present")
	}
	// A second node seeding the same domains meanwhile changes nothing.
	if err := Seed(ctx, SeedConfig{Domains: []string{"a.test"}, Store: staleLister{st.Store}, Cluster: st}); err != nil {
		t.Fatal(err)
	}
	a, _ := st.Store.Domain("a.test")
	if len(a.GetDkimKeys()) != 2 {
		t.Fatalf("a.test has %d keys after a second seeding", len(a.GetDkimKeys()))
	}

	// A domain added before domains had keys gets a pair, once, however
	// many nodes try.
	st.Must(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "old.test"}}})
	for range 2 {
		if err := Seed(ctx, SeedConfig{Store: st.Store, Cluster: st, Now: func() time.Time { return day }}); err != nil {
			t.Fatal(err)
		}
	}
	// A node that has not yet applied those keys tries too: refused, done.
	if err := Seed(ctx, SeedConfig{Store: keylessView{st.Store}, Cluster: st, Now: func() time.Time { return day }}); err != nil {
		t.Fatal(err)
	}
	old, err := st.Store.Domain("old.test")
	if err != nil || len(old.GetDkimKeys()) != 2 || old.GetDkimKeys()[0].GetSelector() != "20261202e" {
		t.Fatalf("old.test after seeding: %v %v", old, err)
	}
}

// keylessView is a node that has not yet applied any key.
type keylessView struct{ *mailbox.Store }

func (k keylessView) Domain(name string) (*evlog.DomainRecord, error) {
	rec, err := k.Store.Domain(name)
	if rec != nil {
		rec.DkimKeys = nil
	}
	return rec, err
}

// staleLister is a node that has not applied anything yet: it lists no
// domain.
type staleLister struct{ *mailbox.Store }

func (staleLister) Domains() ([]string, error) { return nil, nil }
