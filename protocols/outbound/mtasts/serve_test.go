package mtasts

import (
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

type sourceMap map[string]string

func (s sourceMap) MTASTS(domain string) (string, bool) {
	m, ok := s[domain]
	return m, ok
}

func TestHandler(t *testing.T) {
	h := &Handler{
		Source: sourceMap{"example.test": "enforce", "testing.test": "testing", "off.test": "", "none.test": "none"},
		MX:     func() []string { return []string{"mx1.example.test", "mx2.example.test"} },
		MaxAge: 24 * time.Hour,
	}
	get := func(method, host, path string) (*http.Response, string) {
		req := httptest.NewRequest(method, "https://"+host+path, nil)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		b, _ := io.ReadAll(rec.Result().Body)
		return rec.Result(), string(b)
	}
	resp, body := get("GET", "mta-sts.example.test", PolicyPath)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Fatalf("%d %v", resp.StatusCode, resp.Header)
	}
	p, err := Parse([]byte(body))
	if err != nil {
		t.Fatalf("served policy %q: %v", body, err)
	}
	if p.Mode != Enforce || p.MaxAge != 24*time.Hour || !p.Matches("mx2.example.test") {
		t.Fatalf("served %+v", p)
	}
	if _, body := get("GET", "MTA-STS.testing.test:443", PolicyPath); body != string(Format(Testing, []string{"mx1.example.test", "mx2.example.test"}, 24*time.Hour)) {
		t.Errorf("testing: %q", body)
	}
	if resp, body := get("GET", "mta-sts.none.test", PolicyPath); resp.StatusCode != 200 {
		t.Errorf("none: %d %q", resp.StatusCode, body)
	} else if p, err := Parse([]byte(body)); err != nil || p.Mode != None {
		t.Errorf("none: %q: %+v %v", body, p, err)
	}
	for _, c := range []struct{ method, host, path string }{
		{"GET", "mta-sts.other.test", PolicyPath}, // not our domain
		{"GET", "mta-sts.off.test", PolicyPath},   // ours, no policy
		{"GET", "example.test", PolicyPath},       // not the policy host
		{"GET", "mta-sts.example.test", "/"},      // not the policy path
		{"GET", "mta-sts.", PolicyPath},           // no domain
		{"GET", "mta-sts.example.test", PolicyPath + "x"},
	} {
		if resp, _ := get(c.method, c.host, c.path); resp.StatusCode != 404 {
			t.Errorf("%s %s%s: %d, want 404", c.method, c.host, c.path, resp.StatusCode)
		}
	}
	if resp, _ := get("POST", "mta-sts.example.test", PolicyPath); resp.StatusCode != 405 {
		t.Errorf("POST: %d", resp.StatusCode)
	}
	// Without mail host names an enforce policy would be invalid: none is
	// served.
	h.MX = func() []string { return nil }
	if resp, _ := get("GET", "mta-sts.example.test", PolicyPath); resp.StatusCode != 404 {
		t.Errorf("no MX: %d", resp.StatusCode)
	}
}
