package main

import (
	"errors"
	"log/slog"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/miekg/dns"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
	suratdns "github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

func TestCLIDomain(t *testing.T) {
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	zone := dnstest.Start(t)
	res, err := suratdns.New(zone.Addr())
	if err != nil {
		t.Fatal(err)
	}
	api, err := admin.New(admin.Config{Directory: st, Digester: st, Cluster: &storeNode{s: st}, Domains: st,
		Hostname: "mx.example.test", Resolver: checkResolver(res), Token: "tok",
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	defer ts.Close()
	env := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}
	domain := func(args ...string) result {
		return runCLI(t, env, "", append(append([]string{"domain"}, args...), "--server", ts.URL)...)
	}

	if r := domain("list"); r.code != 0 || r.stdout != "" {
		t.Fatalf("empty list: %+v", r)
	}
	r := domain("add", "example.test")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "domain example.test\n") || strings.Count(r.stdout, "\ndkim ") != 2 {
		t.Fatalf("add: %+v", r)
	}
	if r := domain("add", "b.test"); r.code != 0 {
		t.Fatalf("add b.test: %+v", r)
	}
	if r := domain("list"); r.code != 0 || r.stdout != "b.test\nexample.test\n" {
		t.Fatalf("list: %+v", r)
	}

	// records parse back as a zone, one DKIM key record per key.
	r = domain("records", "example.test")
	if r.code != 0 {
		t.Fatalf("records: %+v", r)
	}
	zp := dns.NewZoneParser(strings.NewReader(r.stdout), ".", "")
	var keys, dmarc, spf int
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		txt, isTXT := rr.(*dns.TXT)
		switch {
		case isTXT && strings.HasSuffix(rr.Header().Name, "._domainkey.example.test."):
			keys++
		case isTXT && rr.Header().Name == "_dmarc.example.test.":
			dmarc++
		case isTXT && rr.Header().Name == "example.test." && strings.HasPrefix(txt.Txt[0], "v=spf1"):
			spf++
		}
	}
	if err := zp.Err(); err != nil || keys != 2 || dmarc != 1 || spf != 1 {
		t.Fatalf("records: %v; %d keys, %d DMARC, %d SPF in\n%s", err, keys, dmarc, spf, r.stdout)
	}

	// --check: nothing published, then everything, then one removed.
	r = domain("records", "example.test", "--check")
	if r.code != 1 || !strings.Contains(r.stdout, "; _dmarc.example.test. TXT: missing\n") || strings.Count(r.stderr, "\n") != 1 ||
		!strings.Contains(r.stderr, "records missing or wrong") {
		t.Fatalf("check, nothing published: %+v", r)
	}
	printed := domain("records", "example.test").stdout
	if err := zone.AddZone(printed); err != nil {
		t.Fatal(err)
	}
	zone.Add("mx.example.test", "A", "127.0.0.1")
	if r := domain("records", "example.test", "--check"); r.code != 0 || r.stdout != printed {
		t.Fatalf("check, all published: %+v", r)
	}
	zone.Remove("example.test", "MX")
	zone.Remove("_imaps._tcp.example.test", "SRV")
	zone.Add("_imaps._tcp.example.test", "SRV", "0 1 143 mx.example.test.")
	if r := domain("records", "example.test", "--check"); r.code != 1 ||
		!strings.HasSuffix(r.stdout, "; example.test. MX: missing\n; _imaps._tcp.example.test. SRV: wrong: SRV names mx.example.test. port 143, not mx.example.test. port 993\n") {
		t.Fatalf("check, MX removed and an SRV port wrong: %+v", r)
	}

	// set, show, rotate-key, retire-key.
	if r := domain("set", "example.test", "--dmarc-enforce=false", "--mta-sts=testing", "--dmarc-policy=quarantine"); r.code != 0 ||
		!strings.Contains(r.stdout, "dmarc-enforce false\n") || !strings.Contains(r.stdout, "mta-sts testing\n") ||
		!strings.Contains(r.stdout, "dmarc-policy quarantine\n") {
		t.Fatalf("set: %+v", r)
	}
	if r := domain("records", "example.test"); !strings.Contains(r.stdout, "_mta-sts.example.test. 3600 IN TXT") {
		t.Fatalf("MTA-STS on, records: %s", r.stdout)
	}
	r = domain("rotate-key", "example.test")
	if r.code != 0 || strings.Count(r.stdout, "\ndkim ") != 2 {
		t.Fatalf("rotate-key: %+v", r)
	}
	newSel := strings.Fields(strings.Split(r.stdout, "\n")[4])[1]
	show := domain("show", "example.test")
	if show.code != 0 || strings.Count(show.stdout, "\ndkim ") != 4 || !strings.Contains(show.stdout, "dkim "+newSel+" ") {
		t.Fatalf("show after rotation: %+v", show)
	}
	var oldSel string
	for _, l := range strings.Split(show.stdout, "\n") {
		if f := strings.Fields(l); len(f) == 4 && f[0] == "dkim" && f[1] != newSel && f[2] == "ed25519" {
			oldSel = f[1]
		}
	}
	if r := domain("retire-key", "example.test", oldSel); r.code != 0 {
		t.Fatalf("retire-key: %+v", r)
	}
	if r := domain("show", "example.test"); strings.Contains(r.stdout, "dkim "+oldSel+" ") {
		t.Fatalf("retired key still shown: %s", r.stdout)
	}

	// del: refused while in use, then done.
	if r := runCLI(t, env, "pw\n", "user", "add", "ann@b.test", "--password-stdin", "--server", ts.URL); r.code != 0 {
		t.Fatalf("user add: %+v", r)
	}
	if r := domain("del", "b.test"); r.code != 1 || !strings.Contains(r.stderr, "ann@b.test") || strings.Count(r.stderr, "\n") != 1 {
		t.Fatalf("del in use: %+v", r)
	}
	if r := domain("del", "example.test"); r.code != 0 {
		t.Fatalf("del: %+v", r)
	}
	if l := domain("list"); l.stdout != "b.test\n" {
		t.Fatalf("list after del: %+v", l)
	}

	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"add"}, 2, "DOMAIN"},
		{[]string{"add", "a.test", "b.test"}, 2, ""},
		{[]string{"add", "b.test"}, 1, "already exists"},
		{[]string{"add", "not_a domain"}, 1, "domain"},
		{[]string{"del", "nowhere.test"}, 1, "no such domain"},
		{[]string{"records", "nowhere.test"}, 1, "no such domain"},
		{[]string{"set", "b.test"}, 2, "nothing to set"},
		{[]string{"set", "b.test", "--dmarc-enforce=maybe"}, 2, "true or false"},
		{[]string{"set", "b.test", "--mta-sts=sometimes"}, 1, "off, testing or enforce"},
		{[]string{"retire-key", "b.test", "nosuch"}, 1, "nosuch"},
		{[]string{"frobnicate"}, 2, "unknown subcommand"},
	} {
		r := domain(tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 {
			t.Errorf("domain %v: %+v, want exit %d and %q", tc.args, r, tc.code, tc.want)
		}
	}
	if r := runCLI(t, env, "", "domain", "--help"); r.code != 0 || !slices.ContainsFunc(strings.Split(r.stdout, "\n"), func(l string) bool {
		return strings.Contains(l, "surat domain records DOMAIN [--check]")
	}) {
		t.Errorf("help: %+v", r)
	}
}
