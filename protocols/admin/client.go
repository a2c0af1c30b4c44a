package admin

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/surat-mail/surat/cluster"
)

// Client calls the admin API; the surat CLI is its user.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// DefaultClientTimeout covers a write during a leader election.
const DefaultClientTimeout = 30 * time.Second

// NewClient returns a client for the API at baseURL (e.g.
// http://127.0.0.1:8080) sending token as a bearer token when not empty.
// A zero timeout means DefaultClientTimeout.
func NewClient(baseURL, token string, timeout time.Duration) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("bad server URL %q: want http://HOST:PORT", baseURL)
	}
	if timeout <= 0 {
		timeout = DefaultClientTimeout
	}
	return &Client{base: u, token: token, http: &http.Client{Timeout: timeout}}, nil
}

// SetTLS makes the client verify an https server with cfg (a CA to
// trust, or InsecureSkipVerify for a self-signed certificate the operator
// chose not to check).
func (c *Client) SetTLS(cfg *tls.Config) {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.TLSClientConfig = cfg
	c.http.Transport = t
}

// APIError is a non-2xx answer; Message is the server's one-line reason.
type APIError struct {
	Status  int
	Message string
}

func (e *APIError) Error() string { return e.Message }

// StatusOf returns the HTTP status of an *APIError in err's chain, or 0.
func StatusOf(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status
	}
	return 0
}

// AddUser creates address with password.
func (c *Client) AddUser(ctx context.Context, address, password string) error {
	return c.do(ctx, http.MethodPost, "/v1/users", AddUserRequest{Address: address, Password: password}, nil)
}

// AddUserWithHash creates address with an existing password hash
// (argon2id in PHC form, or bcrypt), imported as it is.
func (c *Client) AddUserWithHash(ctx context.Context, address, hash string) error {
	return c.do(ctx, http.MethodPost, "/v1/users", AddUserRequest{Address: address, PasswordHash: hash}, nil)
}

// SetPassword replaces address's password.
func (c *Client) SetPassword(ctx context.Context, address, password string) error {
	return c.do(ctx, http.MethodPut, userPath(address, "password"), PasswordRequest{Password: password}, nil)
}

// SetQuota sets address's quota in bytes and, when messages is not nil,
// its limit on the number of messages (0: no limit).
func (c *Client) SetQuota(ctx context.Context, address string, bytes uint64, messages *uint64) error {
	return c.do(ctx, http.MethodPut, userPath(address, "quota"), QuotaRequest{Bytes: &bytes, Messages: messages}, nil)
}

// DeleteUser deletes address and all its mail.
func (c *Client) DeleteUser(ctx context.Context, address string) error {
	return c.do(ctx, http.MethodDelete, userPath(address, ""), nil, nil)
}

// User returns address's record.
func (c *Client) User(ctx context.Context, address string) (UserResponse, error) {
	var out UserResponse
	err := c.do(ctx, http.MethodGet, userPath(address, ""), nil, &out)
	return out, err
}

// Users lists every account, sorted.
func (c *Client) Users(ctx context.Context) ([]string, error) {
	var out UsersResponse
	err := c.do(ctx, http.MethodGet, "/v1/users", nil, &out)
	return out.Users, err
}

// ClusterStatus is the node's view of the cluster.
func (c *Client) ClusterStatus(ctx context.Context) (cluster.Status, error) {
	var out cluster.Status
	err := c.do(ctx, http.MethodGet, "/v1/cluster", nil, &out)
	return out, err
}

// Digest is the node's projection digest.
func (c *Client) Digest(ctx context.Context) (DigestResponse, error) {
	var out DigestResponse
	err := c.do(ctx, http.MethodGet, "/v1/digest", nil, &out)
	return out, err
}

// Queue lists the outbound queue.
func (c *Client) Queue(ctx context.Context) ([]QueueEntry, error) {
	var out QueueResponse
	err := c.do(ctx, http.MethodGet, "/v1/queue", nil, &out)
	return out.Entries, err
}

// RetryQueue makes a queue entry due now.
func (c *Client) RetryQueue(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodPost, "/v1/queue/"+url.PathEscape(id)+"/retry", nil, nil)
}

// DeleteQueue drops a queue entry without a bounce.
func (c *Client) DeleteQueue(ctx context.Context, id string) error {
	return c.do(ctx, http.MethodDelete, "/v1/queue/"+url.PathEscape(id), nil, nil)
}

// Ready reports whether GET /readyz answers 200.
func (c *Client) Ready(ctx context.Context) (bool, error) {
	err := c.do(ctx, http.MethodGet, "/readyz", nil, nil)
	if StatusOf(err) == http.StatusServiceUnavailable {
		return false, nil
	}
	return err == nil, err
}

func userPath(address, sub string) string {
	p := "/v1/users/" + url.PathEscape(address)
	if sub != "" {
		p += "/" + sub
	}
	return p
}

func (c *Client) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = bytes.NewReader(b)
	}
	// path is already escaped (userPath); the base has no trailing slash.
	req, err := http.NewRequestWithContext(ctx, method, c.base.String()+path, body)
	if err != nil {
		return fmt.Errorf("build request: %w", err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("cannot reach %s: %w", c.base.Host, unwrapURLError(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 8<<20))
	if err != nil {
		return fmt.Errorf("read answer from %s: %w", c.base.Host, err)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		var e ErrorResponse
		msg := ""
		if json.Unmarshal(data, &e) == nil {
			msg = e.Error
		}
		if msg == "" && resp.StatusCode == http.StatusBadRequest && bytes.Contains(data, []byte("HTTPS server")) {
			msg = "the server speaks HTTPS: use --server https://" + c.base.Host
		}
		if msg == "" {
			msg = fmt.Sprintf("%s %s: %s", method, path, resp.Status)
		}
		return &APIError{Status: resp.StatusCode, Message: oneLine(msg)}
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("decode answer to %s %s: %w", method, path, err)
		}
	}
	return nil
}

// unwrapURLError drops net/http's "Get "http://...": " prefix, which
// repeats what the caller already says.
func unwrapURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
