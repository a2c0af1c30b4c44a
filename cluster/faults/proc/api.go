package proc

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// apiClient reads a node's admin API. It is the driver's own (not
// protocols/admin's client) so that its connections can come from Dial.
type apiClient struct {
	base  string
	token string
	http  *http.Client
}

func newAPIClient(base, token string, dial DialFunc) *apiClient {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if dial != nil {
		tr.DialContext = dial
	} else {
		tr.DialContext = (&net.Dialer{Timeout: apiTimeout}).DialContext
	}
	// Nodes are killed all the time: an idle connection to a dead process
	// would fail the next call for nothing.
	tr.DisableKeepAlives = true
	// Off loopback a node serves its API over TLS with its self-signed
	// certificate, made when it first starts (after this client); the
	// driver talks to the processes it started itself. The CLI, run as an
	// operator would, verifies it (Node.CLI).
	tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12}
	return &apiClient{base: base, token: token, http: &http.Client{Transport: tr, Timeout: apiTimeout}}
}

// statusError is a non-2xx answer.
type statusError struct {
	status int
	body   string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("HTTP %d: %s", e.status, e.body)
}

// statusOf returns the HTTP status of a *statusError in err's chain, or 0.
func statusOf(err error) int {
	var se *statusError
	if errors.As(err, &se) {
		return se.status
	}
	return 0
}

// get fetches path and decodes its JSON body into out (nil: ignored).
func (a *apiClient) get(ctx context.Context, path string, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("GET %s: read: %w", path, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return &statusError{status: resp.StatusCode, body: strings.TrimSpace(string(body))}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("GET %s: decode: %w", path, err)
	}
	return nil
}
