package mtasts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
)

// DefaultFetchTimeout bounds one policy fetch: connect, TLS, request and
// body (RFC 8461 §3.3 lets senders bound it).
const DefaultFetchTimeout = 30 * time.Second

// Fetcher gets policy files over HTTPS (RFC 8461 §3.3).
type Fetcher struct {
	// Resolver resolves mta-sts.DOMAIN; the operating system's resolver
	// is never used. Required.
	Resolver dns.Resolver
	// RootCAs, when set, replaces the system roots (a private CA).
	RootCAs *x509.CertPool
	// AllowAddr, when set, says whether an address of mta-sts.DOMAIN may
	// be connected to (the outbound transport refuses non-public ones
	// unless told otherwise); nil: every address.
	AllowAddr func(addr string) bool
	// Port is the HTTPS port; 0: 443. Tests use another.
	Port int
	// Timeout bounds a fetch; 0: DefaultFetchTimeout.
	Timeout time.Duration
}

// ErrRedirect is a 3xx answer: RFC 8461 §3.3 forbids following it.
var ErrRedirect = errors.New("mta-sts: policy fetch redirected (redirects are not followed)")

// PolicyURL is where a domain's policy is published (RFC 8461 §3.3).
func PolicyURL(domain string) string {
	return "https://mta-sts." + domain + "/.well-known/mta-sts.txt"
}

// Fetch gets and parses domain's policy. A policy that was fetched but
// does not parse is returned as an *InvalidPolicyError (RFC 8460
// sts-policy-invalid); every other failure is a fetch error.
func (f *Fetcher) Fetch(ctx context.Context, domain string) (*Policy, error) {
	timeout := f.Timeout
	if timeout <= 0 {
		timeout = DefaultFetchTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	host := "mta-sts." + strings.ToLower(strings.TrimSuffix(domain, "."))
	url := PolicyURL(strings.TrimPrefix(host, "mta-sts."))
	if f.Port != 0 {
		url = "https://" + net.JoinHostPort(host, strconv.Itoa(f.Port)) + "/.well-known/mta-sts.txt"
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("mta-sts: %w", err)
	}
	client := &http.Client{
		Transport: &http.Transport{
			DialContext:       f.dial,
			TLSClientConfig:   &tls.Config{RootCAs: f.RootCAs, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
			DisableKeepAlives: true, // one request per fetch: no idle connections left behind
			// No proxy: the fetch goes where our resolver says.
			Proxy: nil,
		},
		// RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
		CheckRedirect: func(*http.Request, []*http.Request) error { return ErrRedirect },
	}
	resp, err := client.Do(req)
	if err != nil {
		if errors.Is(err, ErrRedirect) {
			return nil, ErrRedirect
		}
		return nil, fmt.Errorf("mta-sts: fetch %s: %w", url, err)
	}
	defer resp.Body.Close()
	// RFC 8461 §3.3: only 200 is a policy.
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("mta-sts: fetch %s: HTTP %s", url, resp.Status)
	}
	// RFC 8461 §3.2: the media type is text/plain.
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/plain" {
		return nil, &InvalidPolicyError{Err: fmt.Errorf("content type %q, want text/plain", resp.Header.Get("Content-Type"))}
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxPolicySize+1))
	if err != nil {
		return nil, fmt.Errorf("mta-sts: fetch %s: %w", url, err)
	}
	p, err := Parse(body)
	if err != nil {
		return nil, &InvalidPolicyError{Err: err}
	}
	return p, nil
}

// InvalidPolicyError is a policy that was served but is not valid.
type InvalidPolicyError struct{ Err error }

func (e *InvalidPolicyError) Error() string { return "mta-sts: invalid policy: " + e.Err.Error() }
func (e *InvalidPolicyError) Unwrap() error { return e.Err }

// dial resolves the host through f.Resolver and connects to its allowed
// addresses in turn.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	addrs, err := f.Resolver.LookupHost(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolve %s: %w", host, err)
	}
	var d net.Dialer
	var lastErr error
	for _, a := range addrs {
		if f.AllowAddr != nil && !f.AllowAddr(a) {
			lastErr = fmt.Errorf("%s resolves to %s, a non-public address", host, a)
			continue
		}
		c, err := d.DialContext(ctx, network, net.JoinHostPort(a, port))
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("%s has no address", host)
	}
	return nil, lastErr
}
