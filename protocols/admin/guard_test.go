package admin

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// A browser page cannot drive the API, with or without a token: foreign
// Origins, rebound Host names and non-JSON bodies are refused before any
// handler runs.
func TestCrossSiteRefused(t *testing.T) {
	for _, token := range []string{"", "tok"} {
		f := newFake()
		s := newTestServer(t, f, token, "Admin.Example.TEST.")
		tests := []struct {
			name, method, path, host, body string
			header                         map[string]string
			want                           int
		}{
			{"same origin", "GET", "/v1/users", "127.0.0.1:8080", "", map[string]string{"Origin": "http://127.0.0.1:8080"}, http.StatusOK},
			{"no origin (CLI)", "GET", "/v1/users", "127.0.0.1:8080", "", nil, http.StatusOK},
			{"IPv6 literal", "GET", "/healthz", "[::1]:8080", "", nil, http.StatusOK},
			{"localhost", "GET", "/healthz", "localhost:8080", "", nil, http.StatusOK},
			{"configured name", "GET", "/v1/users", "admin.example.test:8080", "", map[string]string{"Origin": "https://admin.example.test:8080"}, http.StatusOK},
			{"foreign origin GET", "GET", "/v1/users", "127.0.0.1:8080", "", map[string]string{"Origin": "https://evil.test"}, http.StatusForbidden},
			{"foreign origin POST", "POST", "/v1/users", "127.0.0.1:8080", `{"address":"x@example.test","password":"long enough pw"}`,
				map[string]string{"Origin": "https://evil.test", "Content-Type": "application/json"}, http.StatusForbidden},
			{"null origin", "DELETE", "/v1/users/a@example.test", "127.0.0.1:8080", "", map[string]string{"Origin": "null"}, http.StatusForbidden},
			{"origin on another port", "GET", "/v1/users", "127.0.0.1:8080", "", map[string]string{"Origin": "http://127.0.0.1:9999"}, http.StatusForbidden},
			{"fetch metadata cross-site", "POST", "/v1/queue/00/retry", "127.0.0.1:8080", "", map[string]string{"Sec-Fetch-Site": "cross-site"}, http.StatusForbidden},
			{"rebound host name", "GET", "/v1/users", "evil.test:8080", "", nil, http.StatusForbidden},
			{"rebound host, healthz too", "GET", "/healthz", "evil.test", "", nil, http.StatusForbidden},
			{"form post", "POST", "/v1/users", "127.0.0.1:8080", "address=x%40example.test",
				map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, http.StatusUnsupportedMediaType},
			{"text/plain post", "POST", "/v1/users", "127.0.0.1:8080", `{"address":"x@example.test","password":"long enough pw"}`,
				map[string]string{"Content-Type": "text/plain"}, http.StatusUnsupportedMediaType},
			{"body without type", "PUT", "/v1/users/a@example.test/password", "127.0.0.1:8080", `{"password":"long enough pw"}`, nil, http.StatusUnsupportedMediaType},
			{"json with charset", "PUT", "/v1/users/a@example.test/password", "127.0.0.1:8080", `{"password":"long enough pw"}`,
				map[string]string{"Content-Type": "application/json; charset=utf-8"}, http.StatusNoContent},
		}
		for _, tc := range tests {
			f.addUser("a@example.test")
			req := httptest.NewRequest(tc.method, tc.path, strings.NewReader(tc.body))
			req.Host = tc.host
			for k, v := range tc.header {
				req.Header.Set(k, v)
			}
			if token != "" {
				req.Header.Set("Authorization", "Bearer "+token)
			}
			rec := httptest.NewRecorder()
			s.ServeHTTP(rec, req)
			if rec.Code != tc.want {
				t.Errorf("token %q, %s: status %d, want %d (%s)", token, tc.name, rec.Code, tc.want, rec.Body.String())
				continue
			}
			if rec.Code >= 400 {
				errorOf(t, rec)
			}
		}
	}
}
