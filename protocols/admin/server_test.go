package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
)

var errNotFound = errors.New("fake: not found")

// fakeNode is an in-memory cluster + store: Propose applies account events
// to a map the way mailbox/ does, so the handlers see real outcomes.
type fakeNode struct {
	mu         sync.Mutex
	users      map[string]*evlog.UserRecord
	domains    []string
	ready      bool
	proposeErr error
	proposals  []*evlog.Batch
	applied    uint64
}

func newFake() *fakeNode {
	return &fakeNode{users: map[string]*evlog.UserRecord{}, domains: []string{"example.test"}, ready: true}
}

func (f *fakeNode) Users() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for a := range f.users {
		out = append(out, a)
	}
	return out, nil // unsorted on purpose: the handler sorts
}

func (f *fakeNode) User(a string) (*evlog.UserRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if u, ok := f.users[a]; ok {
		return u, nil
	}
	return nil, fmt.Errorf("user %s: %w", a, errNotFound)
}

func (f *fakeNode) Domains() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.domains), nil
}

func (f *fakeNode) Digest() (uint64, [32]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var d [32]byte
	d[0], d[31] = 0xab, 0x01
	return f.applied, d, nil
}

func (f *fakeNode) Ready() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ready
}

func (f *fakeNode) Status(context.Context) cluster.Status {
	return cluster.Status{Leader: "n1", Self: "n2", Members: []cluster.Member{
		{ID: "n1", State: cluster.StateLeader, AppliedIndex: 42},
		{ID: "n2", State: cluster.StateFollower, AppliedIndex: 42},
	}}
}

func (f *fakeNode) Propose(_ context.Context, p []byte) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.proposeErr != nil {
		return nil, f.proposeErr
	}
	b, err := evlog.DecodeBatch(p)
	if err != nil {
		return nil, err
	}
	f.proposals = append(f.proposals, b)
	f.applied++
	out := &evlog.Outcome{}
	// Validate the whole batch first: apply is all-or-nothing.
	users := map[string]bool{}
	for a := range f.users {
		users[a] = true
	}
	domains := slices.Clone(f.domains)
	for _, ev := range b.Events {
		switch k := ev.Kind.(type) {
		case *evlog.Event_DomainAdded:
			domains = append(domains, k.DomainAdded.Domain)
		case *evlog.Event_UserCreated:
			a := k.UserCreated.Address
			if users[a] {
				out.Error, out.Message = evlog.ErrorCode_ERROR_CODE_USER_EXISTS, "exists"
			} else if !slices.Contains(domains, a[strings.IndexByte(a, '@')+1:]) {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN
			}
			users[a] = true
		case *evlog.Event_PasswordChanged:
			if !users[k.PasswordChanged.Address] {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
			}
		case *evlog.Event_QuotaSet:
			if !users[k.QuotaSet.Address] {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
			}
		case *evlog.Event_UserDeleted:
			if !users[k.UserDeleted.Address] {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
			}
			delete(users, k.UserDeleted.Address)
		}
	}
	if out.Error == 0 {
		for _, ev := range b.Events {
			switch k := ev.Kind.(type) {
			case *evlog.Event_DomainAdded:
				f.domains = append(f.domains, k.DomainAdded.Domain)
			case *evlog.Event_UserCreated:
				f.users[k.UserCreated.Address] = &evlog.UserRecord{Address: k.UserCreated.Address,
					PasswordHash: k.UserCreated.PasswordHash, CreatedUnix: k.UserCreated.CreatedUnix}
			case *evlog.Event_PasswordChanged:
				f.users[k.PasswordChanged.Address].PasswordHash = k.PasswordChanged.PasswordHash
			case *evlog.Event_QuotaSet:
				u := f.users[k.QuotaSet.Address]
				u.QuotaBytes = k.QuotaSet.Bytes
				if k.QuotaSet.Messages != nil {
					u.QuotaMessages = k.QuotaSet.GetMessages()
				}
			case *evlog.Event_UserDeleted:
				delete(f.users, k.UserDeleted.Address)
			}
		}
	}
	return evlog.EncodeOutcome(out)
}

func (f *fakeNode) addUser(a string) {
	f.users[a] = &evlog.UserRecord{Address: a, PasswordHash: "hash:old"}
}

func cheapHash(pw string) (string, error) { return "hash:" + pw, nil }

func newTestServer(t *testing.T, f *fakeNode, token string, hosts ...string) *Server {
	t.Helper()
	reg := prometheus.NewRegistry()
	s, err := New(Config{
		Directory: f, Digester: f, Cluster: f,
		IsNotFound:   func(err error) bool { return errors.Is(err, errNotFound) },
		Token:        token,
		LocalDomains: []string{"Example.test", "new.test"},
		Hosts:        hosts,
		Gatherer:     reg, Registerer: reg,
		HashPassword: cheapHash,
		Now:          func() time.Time { return time.Unix(1700000000, 0) },
	})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

type call struct {
	method, path, body string
	token              string
}

func do(t *testing.T, h http.Handler, c call) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	req.Host = "127.0.0.1:8080"
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func errorOf(t *testing.T, rec *httptest.ResponseRecorder) string {
	t.Helper()
	var e ErrorResponse
	if err := json.Unmarshal(rec.Body.Bytes(), &e); err != nil {
		t.Fatalf("error body is not JSON: %q", rec.Body.String())
	}
	if e.Error == "" || strings.ContainsAny(e.Error, "\r\n") {
		t.Fatalf("error is not one non-empty line: %q", e.Error)
	}
	return e.Error
}

func TestEndpoints(t *testing.T) {
	const tok = "s3cret-token"
	tests := []struct {
		name     string
		setup    func(*fakeNode)
		call     call
		want     int
		wantBody string // substring of the body
		check    func(*testing.T, *fakeNode)
	}{
		{name: "healthz without token", call: call{method: "GET", path: "/healthz"}, want: 200},
		{name: "readyz ready", call: call{method: "GET", path: "/readyz"}, want: 200},
		{name: "readyz not ready", setup: func(f *fakeNode) { f.ready = false },
			call: call{method: "GET", path: "/readyz"}, want: 503},
		{name: "metrics needs token", call: call{method: "GET", path: "/metrics"}, want: 401},
		{name: "metrics", call: call{method: "GET", path: "/metrics", token: tok}, want: 200},
		{name: "cluster needs token", call: call{method: "GET", path: "/v1/cluster"}, want: 401},
		{name: "cluster wrong token", call: call{method: "GET", path: "/v1/cluster", token: "nope"}, want: 401},
		{name: "cluster", call: call{method: "GET", path: "/v1/cluster", token: tok}, want: 200,
			wantBody: `{"leader":"n1","self":"n2","members":[{"id":"n1","state":"leader","applied_index":42`},
		{name: "digest", setup: func(f *fakeNode) { f.applied = 42 },
			call: call{method: "GET", path: "/v1/digest", token: tok}, want: 200,
			wantBody: `{"applied_index":42,"digest":"ab000000000000000000000000000000000000000000000000000000000000` + `01"}`},
		{name: "list users sorted", setup: func(f *fakeNode) { f.addUser("bob@example.test"); f.addUser("alice@example.test") },
			call: call{method: "GET", path: "/v1/users", token: tok}, want: 200,
			wantBody: `{"users":["alice@example.test","bob@example.test"]}`},
		{name: "list users empty", call: call{method: "GET", path: "/v1/users", token: tok}, want: 200, wantBody: `{"users":[]}`},
		{name: "get user", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "GET", path: "/v1/users/Alice@Example.test", token: tok}, want: 200,
			wantBody: `"address":"alice@example.test"`},
		{name: "get missing user", call: call{method: "GET", path: "/v1/users/zed@example.test", token: tok}, want: 404},
		{name: "add user", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"Alice@Example.TEST","password":"pw"}`}, want: 201,
			check: func(t *testing.T, f *fakeNode) {
				u := f.users["alice@example.test"]
				if u == nil || u.PasswordHash != "hash:pw" || u.CreatedUnix != 1700000000 {
					t.Errorf("stored %v", u)
				}
				if n := len(f.proposals[0].Events); n != 1 {
					t.Errorf("proposal has %d events, want UserCreated only", n)
				}
			}},
		{name: "add user in configured domain adds the domain", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"a@new.test","password":"pw"}`}, want: 201,
			check: func(t *testing.T, f *fakeNode) {
				evs := f.proposals[0].Events
				if len(evs) != 2 || evs[0].GetDomainAdded().GetDomain() != "new.test" || evs[1].GetUserCreated() == nil {
					t.Errorf("proposal %v, want DomainAdded then UserCreated", evs)
				}
				if keys := evs[0].GetDomainAdded().GetDkimKeys(); len(keys) != 2 {
					t.Errorf("the domain added with a user has %d DKIM keys, want 2", len(keys))
				}
			}},
		{name: "add existing user", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "POST", path: "/v1/users", token: tok, body: `{"address":"alice@example.test","password":"pw"}`},
			want: 409, wantBody: "already exists"},
		{name: "add bad address", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"not-an-address","password":"pw"}`}, want: 400, wantBody: "bad address"},
		{name: "add empty password", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"a@example.test","password":""}`}, want: 400, wantBody: "empty password"},
		{name: "add non-local domain", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"a@elsewhere.test","password":"pw"}`}, want: 400, wantBody: "not a local domain"},
		{name: "add unknown field", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"a@example.test","password":"pw","admin":true}`}, want: 400},
		{name: "add not JSON", call: call{method: "POST", path: "/v1/users", token: tok, body: `address=a`}, want: 400},
		{name: "add trailing data", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"a@example.test","password":"pw"}{}`}, want: 400},
		{name: "add body too large", call: call{method: "POST", path: "/v1/users", token: tok,
			body: `{"address":"a@example.test","password":"` + strings.Repeat("x", MaxBodyBytes) + `"}`}, want: 413},
		{name: "add needs token", call: call{method: "POST", path: "/v1/users",
			body: `{"address":"a@example.test","password":"pw"}`}, want: 401,
			check: func(t *testing.T, f *fakeNode) {
				if len(f.proposals) != 0 {
					t.Error("an unauthorized request proposed")
				}
			}},
		{name: "add no leader", setup: func(f *fakeNode) { f.proposeErr = fmt.Errorf("forward: %w", cluster.ErrNoLeader) },
			call: call{method: "POST", path: "/v1/users", token: tok, body: `{"address":"a@example.test","password":"pw"}`},
			want: 503, wantBody: "cluster has no leader"},
		{name: "add no quorum", setup: func(f *fakeNode) { f.proposeErr = cluster.ErrNoQuorum },
			call: call{method: "POST", path: "/v1/users", token: tok, body: `{"address":"a@example.test","password":"pw"}`},
			want: 503, wantBody: "cluster has no quorum"},
		{name: "add shutting down", setup: func(f *fakeNode) { f.proposeErr = cluster.ErrShutdown },
			call: call{method: "POST", path: "/v1/users", token: tok, body: `{"address":"a@example.test","password":"pw"}`},
			want: 503, wantBody: "shutting down"},
		{name: "add transport error", setup: func(f *fakeNode) { f.proposeErr = errors.New("dial tcp: connection refused") },
			call: call{method: "POST", path: "/v1/users", token: tok, body: `{"address":"a@example.test","password":"pw"}`},
			want: 503, wantBody: "cluster unavailable"},
		{name: "passwd", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "PUT", path: "/v1/users/alice@example.test/password", token: tok, body: `{"password":"new"}`},
			want: 204, check: func(t *testing.T, f *fakeNode) {
				if h := f.users["alice@example.test"].PasswordHash; h != "hash:new" {
					t.Errorf("hash %q", h)
				}
			}},
		{name: "passwd missing user", call: call{method: "PUT", path: "/v1/users/zed@example.test/password", token: tok,
			body: `{"password":"new"}`}, want: 404, wantBody: "no such user"},
		{name: "passwd empty", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "PUT", path: "/v1/users/alice@example.test/password", token: tok, body: `{"password":""}`}, want: 400},
		{name: "passwd bad address", call: call{method: "PUT", path: "/v1/users/nope/password", token: tok,
			body: `{"password":"x"}`}, want: 400},
		{name: "quota", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "PUT", path: "/v1/users/alice@example.test/quota", token: tok, body: `{"bytes":1048576}`},
			want: 204, check: func(t *testing.T, f *fakeNode) {
				if q := f.users["alice@example.test"].QuotaBytes; q != 1048576 {
					t.Errorf("quota %d", q)
				}
			}},
		{name: "quota with messages", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "PUT", path: "/v1/users/alice@example.test/quota", token: tok, body: `{"bytes":0,"messages":5000}`},
			want: 204, check: func(t *testing.T, f *fakeNode) {
				if u := f.users["alice@example.test"]; u.QuotaBytes != 0 || u.QuotaMessages != 5000 {
					t.Errorf("quota %d bytes, %d messages", u.QuotaBytes, u.QuotaMessages)
				}
			}},
		{name: "get user with message quota", setup: func(f *fakeNode) {
			f.addUser("alice@example.test")
			u := f.users["alice@example.test"]
			u.QuotaMessages, u.UsedMessages, u.UsedMessagesKnown = 5000, 12, true
		}, call: call{method: "GET", path: "/v1/users/alice@example.test", token: tok},
			want: 200, wantBody: `"quota_messages":5000,"used_messages":12,`},
		{name: "quota missing bytes", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "PUT", path: "/v1/users/alice@example.test/quota", token: tok, body: `{}`}, want: 400},
		{name: "quota negative", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "PUT", path: "/v1/users/alice@example.test/quota", token: tok, body: `{"bytes":-1}`}, want: 400},
		{name: "quota missing user", call: call{method: "PUT", path: "/v1/users/zed@example.test/quota", token: tok,
			body: `{"bytes":1}`}, want: 404},
		{name: "delete", setup: func(f *fakeNode) { f.addUser("alice@example.test") },
			call: call{method: "DELETE", path: "/v1/users/alice@example.test", token: tok}, want: 204,
			check: func(t *testing.T, f *fakeNode) {
				if _, ok := f.users["alice@example.test"]; ok {
					t.Error("user still there")
				}
			}},
		{name: "delete missing user", call: call{method: "DELETE", path: "/v1/users/zed@example.test", token: tok}, want: 404},
		{name: "delete no quorum", setup: func(f *fakeNode) { f.addUser("alice@example.test"); f.proposeErr = cluster.ErrNoQuorum },
			call: call{method: "DELETE", path: "/v1/users/alice@example.test", token: tok}, want: 503},
		{name: "unknown v1 path", call: call{method: "GET", path: "/v1/nothing", token: tok}, want: 404},
		{name: "unknown v1 path needs token", call: call{method: "GET", path: "/v1/nothing"}, want: 401},
		{name: "wrong method", call: call{method: "PATCH", path: "/v1/users", token: tok}, want: 404},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFake()
			if tc.setup != nil {
				tc.setup(f)
			}
			rec := do(t, newTestServer(t, f, tok), tc.call)
			if rec.Code != tc.want {
				t.Fatalf("status %d, want %d; body %s", rec.Code, tc.want, rec.Body)
			}
			if rec.Code >= 400 && tc.call.path != "/metrics" {
				msg := errorOf(t, rec)
				if tc.wantBody != "" && !strings.Contains(msg, tc.wantBody) {
					t.Errorf("error %q lacks %q", msg, tc.wantBody)
				}
			} else if tc.wantBody != "" && !strings.Contains(rec.Body.String(), tc.wantBody) {
				t.Errorf("body %s lacks %s", rec.Body, tc.wantBody)
			}
			if tc.check != nil {
				tc.check(t, f)
			}
		})
	}
}

func TestNoTokenConfigured(t *testing.T) {
	f := newFake()
	s := newTestServer(t, f, "")
	for _, p := range []string{"/v1/cluster", "/v1/users", "/metrics", "/healthz"} {
		if rec := do(t, s, call{method: "GET", path: p}); rec.Code != 200 {
			t.Errorf("%s without a configured token: %d", p, rec.Code)
		}
	}
}

// A node whose store lags may not know a domain the cluster already has;
// apply answers DOMAIN_EXISTS for the whole batch and the handler retries
// with UserCreated alone.
func TestAddUserDomainRace(t *testing.T) {
	f := newFake()
	s := newTestServer(t, f, "")
	calls := 0
	rejecting := &domainRacer{fakeNode: f, calls: &calls}
	s.cfg.Cluster = rejecting
	rec := do(t, s, call{method: "POST", path: "/v1/users", body: `{"address":"a@new.test","password":"pw"}`})
	if rec.Code != 201 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	if calls != 2 {
		t.Errorf("%d proposals, want 2", calls)
	}
}

type domainRacer struct {
	*fakeNode
	calls *int
}

func (d *domainRacer) Propose(ctx context.Context, p []byte) ([]byte, error) {
	*d.calls++
	b, _ := evlog.DecodeBatch(p)
	if b.Events[0].GetDomainAdded() != nil {
		d.fakeNode.mu.Lock()
		d.fakeNode.domains = append(d.fakeNode.domains, "new.test")
		d.fakeNode.mu.Unlock()
		return evlog.EncodeOutcome(&evlog.Outcome{Error: evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS})
	}
	return d.fakeNode.Propose(ctx, p)
}

func TestMetricsCountRequests(t *testing.T) {
	f := newFake()
	s := newTestServer(t, f, "")
	do(t, s, call{method: "GET", path: "/healthz"})
	rec := do(t, s, call{method: "GET", path: "/metrics"})
	if !bytes.Contains(rec.Body.Bytes(), []byte(`surat_admin_requests_total{code="200",route="GET /healthz"} 1`)) {
		t.Errorf("metrics lack the request counter:\n%s", rec.Body)
	}
}

func TestNewRequiresDependencies(t *testing.T) {
	if _, err := New(Config{}); err == nil {
		t.Error("New with no dependencies succeeded")
	}
}
