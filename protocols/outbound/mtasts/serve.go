package mtasts

import (
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// PolicySource says which MTA-STS mode an operator chose for one of our
// domains (the domain settings in the replicated state). ok is false
// when the domain is not ours or publishes no policy.
type PolicySource interface {
	MTASTS(domain string) (mode string, ok bool)
}

// DefaultServedMaxAge is the max_age of the policies Surat serves: one
// week, as RFC 8461 §3.2 recommends ("weeks or greater").
const DefaultServedMaxAge = 7 * 24 * time.Hour

// PolicyPath is the well-known path of a policy (RFC 8461 §3.3).
const PolicyPath = "/.well-known/mta-sts.txt"

// Handler serves our own domains' policies at
// https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 §3.2, §3.3).
// It is unauthenticated: the policy is public by design.
type Handler struct {
	Source PolicySource
	// MX returns the names of the cluster's mail hosts, the policy's mx
	// lines.
	MX func() []string
	// MaxAge is the policy's max_age; 0: DefaultServedMaxAge.
	MaxAge time.Duration
}

// PolicyDomain returns the domain a Host header (with or without port)
// asks a policy for: "mta-sts.example.com" → "example.com".
func PolicyDomain(host string) (string, bool) {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	d, ok := strings.CutPrefix(host, "mta-sts.")
	return d, ok && d != ""
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	domain, ok := PolicyDomain(r.Host)
	if !ok || r.URL.Path != PolicyPath {
		http.NotFound(w, r)
		return
	}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	value, ok := h.Source.MTASTS(domain)
	mode, err := ParseMode(value)
	if !ok || err != nil {
		http.NotFound(w, r)
		return
	}
	var mx []string
	if h.MX != nil {
		mx = h.MX()
	}
	if len(mx) == 0 && mode != None {
		// A policy without mx lines is invalid (§3.2): senders would
		// treat the domain as having none, so say that plainly.
		http.NotFound(w, r)
		return
	}
	maxAge := h.MaxAge
	if maxAge <= 0 {
		maxAge = DefaultServedMaxAge
	}
	body := Format(mode, mx, min(maxAge, MaxMaxAge))
	// RFC 8461 §3.2: media type text/plain.
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	_, _ = w.Write(body)
}
