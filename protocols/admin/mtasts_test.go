package admin

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/protocols/outbound/mtasts"
)

type oneDomain struct{}

func (oneDomain) MTASTS(d string) (string, bool) { return "enforce", d == "example.test" }

// The MTA-STS policy (RFC 8461 §3.3) is served for Host mta-sts.DOMAIN,
// without the API token and whatever --admin hosts allow; every other
// Host still meets the token and the Host check.
func TestMTASTSPolicyServed(t *testing.T) {
	f := newFake()
	reg := prometheus.NewRegistry()
	s, err := New(Config{Directory: f, Digester: f, Cluster: f, Token: "tok", Hosts: []string{"admin.example.test"},
		Gatherer: reg, Registerer: reg,
		MTASTS: &mtasts.Handler{Source: oneDomain{}, MX: func() []string { return []string{"mx.example.test"} }, MaxAge: time.Hour}})
	if err != nil {
		t.Fatal(err)
	}
	get := func(host, path string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodGet, "https://"+host+path, nil)
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		return rec
	}
	rec := get("mta-sts.example.test", mtasts.PolicyPath)
	body, _ := io.ReadAll(rec.Body)
	if rec.Code != 200 || !strings.Contains(string(body), "mode: enforce\r\nmx: mx.example.test\r\nmax_age: 3600") {
		t.Fatalf("%d %q", rec.Code, body)
	}
	// The policy host reaches nothing else of the API.
	if rec := get("mta-sts.example.test", "/v1/users"); rec.Code != 404 {
		t.Fatalf("/v1/users on the policy host: %d", rec.Code)
	}
	if rec := get("mta-sts.other.test", mtasts.PolicyPath); rec.Code != 404 {
		t.Fatalf("a domain without a policy: %d", rec.Code)
	}
	// Other hosts: unchanged (the Host check refuses an unknown name).
	if rec := get("elsewhere.test", mtasts.PolicyPath); rec.Code == 200 {
		t.Fatalf("policy served to Host elsewhere.test")
	}
}
