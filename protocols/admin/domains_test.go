package admin

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

// newDomainServer is the API over a real store, proposing by applying
// straight to it, with a DNS server of its own for ?check=1.
func newDomainServer(t *testing.T, logs io.Writer) (*Client, *mailbox.Store, *dnstest.Server) {
	t.Helper()
	st, err := mailbox.Open(t.TempDir(), mailbox.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	dns := dnstest.Start(t)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, dns.Addr())
	}}
	n := &storeNode{fakeNode: newFake(), store: st}
	s, err := New(Config{Directory: st, Digester: st, Cluster: n, Domains: st, Hostname: "mx.example.test",
		Resolver: r, Token: "tok", Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		IsNotFound: func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }, LocalDomains: []string{"seeded.test"},
		HashPassword: func(pw string) (string, error) { return "hash:" + pw, nil },
		Now:          func() time.Time { return time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC) }})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	c, err := NewClient(hs.URL, "tok", 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	return c, st, dns
}

func TestDomainsAPI(t *testing.T) {
	var logs bytes.Buffer
	c, st, _ := newDomainServer(t, &logs)
	ctx := context.Background()

	d, err := c.AddDomain(ctx, "Example.TEST.")
	if err != nil {
		t.Fatal(err)
	}
	if d.Domain != "example.test" || len(d.DkimKeys) != 2 || d.DkimKeys[0].Selector != "20261202e" ||
		d.DkimKeys[0].Algorithm != "ed25519" || d.DkimKeys[1].Selector != "20261202r" || d.DkimKeys[1].Algorithm != "rsa" ||
		d.DMARCPolicy != "reject" || d.MTASTS != "off" {
		t.Fatalf("added %+v", d)
	}
	rec, err := st.Domain("example.test")
	if err != nil || len(rec.GetDkimKeys()) != 2 {
		t.Fatalf("stored %v %v", rec, err)
	}
	if _, err := c.AddDomain(ctx, "example.test"); StatusOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("second add: %v", err)
	}
	if _, err := c.AddDomain(ctx, "not a domain"); StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("bad domain: %v", err)
	}
	// A user of a --domain domain adds it, with keys.
	if err := c.AddUser(ctx, "ann@seeded.test", "pw"); err != nil {
		t.Fatal(err)
	}
	if rec, err := st.Domain("seeded.test"); err != nil || len(rec.GetDkimKeys()) != 2 {
		t.Fatalf("domain added with its first user: %v %v", rec, err)
	}
	list, err := c.Domains(ctx)
	if err != nil || !slices.Equal(list, []string{"example.test", "seeded.test"}) {
		t.Fatalf("list %v %v", list, err)
	}

	// Settings.
	f, mode, policy := false, "enforce", "quarantine"
	d, err = c.SetDomainSettings(ctx, "example.test", DomainSettingsRequest{MTASTS: &mode, DMARCPolicy: &policy})
	if err != nil || d.MTASTS != "enforce" || d.DMARCPolicy != "quarantine" || d.DMARCReportOnly {
		t.Fatalf("settings %+v %v", d, err)
	}
	tr := true
	if d, err = c.SetDomainSettings(ctx, "example.test", DomainSettingsRequest{DMARCReportOnly: &tr}); err != nil || !d.DMARCReportOnly || d.MTASTS != "enforce" {
		t.Fatalf("report-only %+v %v", d, err)
	}
	bad := "sometimes"
	if _, err := c.SetDomainSettings(ctx, "example.test", DomainSettingsRequest{MTASTS: &bad}); StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("bad mode: %v", err)
	}
	if _, err := c.SetDomainSettings(ctx, "example.test", DomainSettingsRequest{}); StatusOf(err) != http.StatusBadRequest {
		t.Fatalf("no setting: %v", err)
	}
	if _, err := c.SetDomainSettings(ctx, "nowhere.test", DomainSettingsRequest{DMARCReportOnly: &f}); StatusOf(err) != http.StatusNotFound {
		t.Fatalf("unknown domain: %v", err)
	}

	// Rotation and retirement.
	d, err = c.RotateDomainKeys(ctx, "example.test")
	if err != nil || len(d.DkimKeys) != 2 || d.DkimKeys[0].Selector != "20261202e2" {
		t.Fatalf("rotate %+v %v", d, err)
	}
	if err := c.RetireDomainKey(ctx, "example.test", "20261202e"); err != nil {
		t.Fatal(err)
	}
	if err := c.RetireDomainKey(ctx, "example.test", "20261202e"); StatusOf(err) != http.StatusNotFound {
		t.Fatalf("retire twice: %v", err)
	}
	if d, err = c.Domain(ctx, "example.test"); err != nil || len(d.DkimKeys) != 3 {
		t.Fatalf("after rotation %+v %v", d, err)
	}

	// Records: printed from the stored keys and settings.
	rr, err := c.DomainRecords(ctx, "example.test", false)
	if err != nil || rr.Checked || len(rr.Records) == 0 {
		t.Fatalf("records %+v %v", rr, err)
	}
	var lines []string
	for _, r := range rr.Records {
		lines = append(lines, r.Line)
	}
	text := strings.Join(lines, "\n")
	for _, want := range []string{"example.test. 3600 IN MX 10 mx.example.test.", "20261202e2._domainkey.example.test. 3600 IN TXT",
		`_dmarc.example.test. 3600 IN TXT "v=DMARC1; p=quarantine;`, "_mta-sts.example.test. 3600 IN TXT"} {
		if !strings.Contains(text, want) {
			t.Errorf("records lack %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "20261202e._domainkey") {
		t.Error("a retired key is still printed")
	}

	// Deleting a domain in use is refused, naming the user.
	if err := c.DeleteDomain(ctx, "seeded.test"); StatusOf(err) != http.StatusConflict || !strings.Contains(err.Error(), "ann@seeded.test") {
		t.Fatalf("delete a domain in use: %v", err)
	}
	if err := c.DeleteDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDomain(ctx, "example.test"); StatusOf(err) != http.StatusNotFound {
		t.Fatalf("delete twice: %v", err)
	}
	if _, err := c.DomainRecords(ctx, "example.test", false); StatusOf(err) != http.StatusNotFound {
		t.Fatalf("records of a deleted domain: %v", err)
	}

	// No private key in any log line.
	for _, k := range rec.GetDkimKeys() {
		for _, enc := range []string{string(k.GetPrivateKey()), b64(k.GetPrivateKey())} {
			if strings.Contains(logs.String(), enc) {
				t.Fatalf("the logs hold the private key of %s", k.GetSelector())
			}
		}
	}
	if !strings.Contains(logs.String(), "domain added") {
		t.Fatalf("no log of the domain added: %s", logs.String())
	}
}

// TestDomainsAPINoPrivateKey: no response of the domain endpoints carries
// a private key, in any encoding a JSON body would use.
func TestDomainsAPINoPrivateKey(t *testing.T) {
	c, st, _ := newDomainServer(t, io.Discard)
	ctx := context.Background()
	if _, err := c.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	rec, _ := st.Domain("example.test")
	for _, path := range []string{"/v1/domains", "/v1/domains/example.test", "/v1/domains/example.test/records"} {
		var raw map[string]any
		if err := c.do(ctx, http.MethodGet, path, nil, &raw); err != nil {
			t.Fatal(err)
		}
		body := strings.ToLower(strings.ReplaceAll(strings.ReplaceAll(jsonString(t, raw), `\n`, ""), " ", ""))
		for _, k := range rec.GetDkimKeys() {
			if strings.Contains(body, strings.ToLower(b64(k.GetPrivateKey()))[:40]) {
				t.Fatalf("%s carries the private key of %s", path, k.GetSelector())
			}
		}
		if strings.Contains(body, "private") {
			t.Fatalf("%s names a private key: %s", path, body)
		}
	}
}

func TestDomainRecordsCheck(t *testing.T) {
	c, _, dns := newDomainServer(t, io.Discard)
	ctx := context.Background()
	if _, err := c.AddDomain(ctx, "example.test"); err != nil {
		t.Fatal(err)
	}
	rr, err := c.DomainRecords(ctx, "example.test", true)
	if err != nil || !rr.Checked || len(rr.Problems) == 0 {
		t.Fatalf("nothing published, check: %+v %v", rr.Problems, err)
	}
	var zone []string
	for _, r := range rr.Records {
		zone = append(zone, r.Line)
	}
	if err := dns.AddZone(strings.Join(zone, "\n") + "\n"); err != nil {
		t.Fatal(err)
	}
	dns.Add("mx.example.test", "A", "192.0.2.25")
	if rr, err = c.DomainRecords(ctx, "example.test", true); err != nil || len(rr.Problems) != 0 {
		t.Fatalf("published as printed, check: %+v %v", rr.Problems, err)
	}
	dns.Remove("_dmarc.example.test", "TXT")
	rr, err = c.DomainRecords(ctx, "example.test", true)
	if err != nil || len(rr.Problems) != 1 || rr.Problems[0].Name != "_dmarc.example.test." || rr.Problems[0].Problem != "missing" {
		t.Fatalf("DMARC removed, check: %+v %v", rr.Problems, err)
	}
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }

func jsonString(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
