package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/admin"
)

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

var errNoUser = errors.New("no such user")

// fakeNode is a one-node cluster and store in memory, enough to drive the
// admin API the CLI talks to.
type fakeNode struct {
	mu         sync.Mutex
	users      map[string]uint64 // address → quota
	messages   map[string]uint64 // address → message limit, once set
	proposeErr error
}

func (f *fakeNode) Users() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for u := range f.users {
		out = append(out, u)
	}
	return out, nil
}

func (f *fakeNode) User(a string) (*evlog.UserRecord, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	q, ok := f.users[a]
	if !ok {
		return nil, errNoUser
	}
	return &evlog.UserRecord{Address: a, QuotaBytes: q}, nil
}

func (f *fakeNode) Domains() ([]string, error)        { return []string{"example.test"}, nil }
func (f *fakeNode) Digest() (uint64, [32]byte, error) { return 7, [32]byte{1}, nil }
func (f *fakeNode) Ready() bool                       { return true }
func (f *fakeNode) Status(context.Context) cluster.Status {
	return cluster.Status{Leader: "n1", Self: "n2", Members: []cluster.Member{
		{ID: "n1", State: cluster.StateLeader, AppliedIndex: 42, RaftAddr: "127.0.0.1:7001", Voter: true},
		{ID: "n2", State: cluster.StateFollower, AppliedIndex: 41, RaftAddr: "127.0.0.1:7002", Voter: true},
		{ID: "n3", State: cluster.StateDown, AppliedIndex: 0, RaftAddr: "127.0.0.1:7003", Voter: true},
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
	out := &evlog.Outcome{}
	for _, ev := range b.Events {
		switch k := ev.Kind.(type) {
		case *evlog.Event_UserCreated:
			if _, ok := f.users[k.UserCreated.Address]; ok {
				out.Error = evlog.ErrorCode_ERROR_CODE_USER_EXISTS
			} else {
				f.users[k.UserCreated.Address] = 0
			}
		case *evlog.Event_PasswordChanged:
			if _, ok := f.users[k.PasswordChanged.Address]; !ok {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
			}
		case *evlog.Event_QuotaSet:
			if _, ok := f.users[k.QuotaSet.Address]; !ok {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
			} else {
				f.users[k.QuotaSet.Address] = k.QuotaSet.Bytes
				if k.QuotaSet.Messages != nil {
					if f.messages == nil {
						f.messages = map[string]uint64{}
					}
					f.messages[k.QuotaSet.Address] = k.QuotaSet.GetMessages()
				}
			}
		case *evlog.Event_UserDeleted:
			if _, ok := f.users[k.UserDeleted.Address]; !ok {
				out.Error = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
			} else {
				delete(f.users, k.UserDeleted.Address)
			}
		}
	}
	return evlog.EncodeOutcome(out)
}

func startAdmin(t *testing.T, token string) (*fakeNode, string) {
	t.Helper()
	f := &fakeNode{users: map[string]uint64{}}
	api, err := admin.New(admin.Config{Directory: f, Digester: f, Cluster: f, Token: token,
		IsNotFound:   func(err error) bool { return errors.Is(err, errNoUser) },
		HashPassword: func(pw string) (string, error) { return "h:" + pw, nil }})
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(api)
	t.Cleanup(ts.Close)
	return f, ts.URL
}

type result struct {
	code           int
	stdout, stderr string
}

func runCLI(t *testing.T, environ map[string]string, stdin string, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), &env{args: args, stdin: strings.NewReader(stdin),
		stdout: &out, stderr: &errb, getenv: envOf(environ)})
	return result{code, out.String(), errb.String()}
}

func oneLineErr(t *testing.T, r result) string {
	t.Helper()
	if r.code == 0 {
		t.Fatalf("exit 0, stdout %q", r.stdout)
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || lines[0] == "" {
		t.Fatalf("stderr is not one line: %q", r.stderr)
	}
	return lines[0]
}

func TestCLIUsers(t *testing.T) {
	f, url := startAdmin(t, "tok")
	envTok := map[string]string{"SURAT_ADMIN_TOKEN": "tok"}

	// The acceptance suite's argument order: --server last.
	r := runCLI(t, envTok, "pw1\n", "user", "add", "alice@example.test", "--password-stdin", "--server", url)
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("user add: %+v", r)
	}
	r = runCLI(t, envTok, "pw2\r\n", "user", "add", "--server", url, "--password-stdin", "bob@example.test")
	if r.code != 0 {
		t.Fatalf("user add (flags first): %+v", r)
	}

	tests := []struct {
		name  string
		env   map[string]string
		stdin string
		args  []string
		code  int
		want  string // stdout (code 0) or substring of the one stderr line
	}{
		{"list", envTok, "", []string{"user", "list", "--server", url}, 0, "alice@example.test\nbob@example.test\n"},
		{"duplicate add", envTok, "x\n", []string{"user", "add", "alice@example.test", "--password-stdin", "--server", url}, 1, "already exists"},
		{"bad address", envTok, "x\n", []string{"user", "add", "not-an-address", "--password-stdin", "--server", url}, 1, "bad address"},
		{"empty password", envTok, "\n", []string{"user", "add", "carol@example.test", "--password-stdin", "--server", url}, 1, "empty password"},
		{"no terminal", envTok, "", []string{"user", "add", "carol@example.test", "--server", url}, 1, "--password-stdin"},
		{"passwd", envTok, "new\n", []string{"user", "passwd", "alice@example.test", "--password-stdin", "--server", url}, 0, ""},
		{"passwd missing", envTok, "new\n", []string{"user", "passwd", "zed@example.test", "--password-stdin", "--server", url}, 1, "no such user"},
		{"quota", envTok, "", []string{"user", "quota", "alice@example.test", "1G", "--server", url}, 0, ""},
		{"quota with messages", envTok, "", []string{"user", "quota", "bob@example.test", "0", "--messages", "10000", "--server", url}, 0, ""},
		{"quota bad messages", envTok, "", []string{"user", "quota", "bob@example.test", "0", "--messages", "-1", "--server", url}, 2, "--messages"},
		{"quota bad size", envTok, "", []string{"user", "quota", "alice@example.test", "lots", "--server", url}, 2, "bad size"},
		{"del missing", envTok, "", []string{"user", "del", "nobody@example.test", "--server", url}, 1, "no such user"},
		{"del", envTok, "", []string{"user", "del", "bob@example.test", "--server", url}, 0, ""},
		{"wrong token", map[string]string{"SURAT_ADMIN_TOKEN": "wrong"}, "", []string{"user", "list", "--server", url}, 1, "unauthorized"},
		{"no token", nil, "", []string{"user", "list", "--server", url}, 1, "unauthorized"},
		{"missing email", envTok, "", []string{"user", "del", "--server", url}, 2, "missing EMAIL"},
		{"extra arg", envTok, "", []string{"user", "list", "x", "--server", url}, 2, "unexpected argument"},
		{"bad server", envTok, "", []string{"user", "list", "--server", "localhost:8080"}, 2, "--server"},
		{"unreachable", envTok, "", []string{"user", "list", "--server", "http://127.0.0.1:1"}, 1, "cannot reach"},
		{"unknown subcommand", envTok, "", []string{"user", "frob"}, 2, "unknown subcommand"},
		{"unknown flag", envTok, "", []string{"user", "list", "--frob"}, 2, "flag provided but not defined"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, tc.env, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %+v", r.code, tc.code, r)
			}
			if tc.code == 0 {
				if r.stdout != tc.want || r.stderr != "" {
					t.Errorf("stdout %q stderr %q, want stdout %q", r.stdout, r.stderr, tc.want)
				}
				return
			}
			if line := oneLineErr(t, r); !strings.Contains(line, tc.want) {
				t.Errorf("stderr %q lacks %q", line, tc.want)
			}
		})
	}
	if q := f.users["alice@example.test"]; q != 1<<30 {
		t.Errorf("quota %d", q)
	}
	if _, ok := f.messages["alice@example.test"]; ok {
		t.Error("a quota without --messages set a message limit")
	}
	if m := f.messages["bob@example.test"]; m != 10000 {
		t.Errorf("message limit %d", m)
	}
	if _, ok := f.users["bob@example.test"]; ok {
		t.Error("bob not deleted")
	}
}

func TestCLINoLeader(t *testing.T) {
	f, url := startAdmin(t, "")
	f.proposeErr = fmt.Errorf("forward: %w", cluster.ErrNoLeader)
	r := runCLI(t, nil, "pw\n", "user", "add", "a@example.test", "--password-stdin", "--server", url)
	if line := oneLineErr(t, r); !strings.Contains(line, "cluster has no leader") {
		t.Errorf("stderr %q", line)
	}
}

func TestCLIClusterStatus(t *testing.T) {
	_, url := startAdmin(t, "")
	r := runCLI(t, nil, "", "cluster", "status", "--server", url)
	if r.code != 0 {
		t.Fatalf("%+v", r)
	}
	for _, want := range []string{"leader: n1", "n1 *", "n2 (self)", "follower", "down", "42"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("status lacks %q:\n%s", want, r.stdout)
		}
	}
}

func TestCLIKeygen(t *testing.T) {
	r := runCLI(t, nil, "", "cluster", "keygen")
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(r.stdout))
	if r.code != 0 || err != nil || len(key) != cluster.KeySize {
		t.Fatalf("keygen to stdout: %+v", r)
	}
	path := filepath.Join(t.TempDir(), "cluster.key")
	if r := runCLI(t, nil, "", "cluster", "keygen", "--out", path); r.code != 0 {
		t.Fatalf("keygen --out: %+v", r)
	}
	if k, err := cluster.LoadKey("", path); err != nil || len(k) != cluster.KeySize {
		t.Fatalf("written key: %v", err)
	}
	if st, _ := os.Stat(path); st.Mode().Perm() != 0o600 {
		t.Errorf("key mode %v", st.Mode().Perm())
	}
	oneLineErr(t, runCLI(t, nil, "", "cluster", "keygen", "--out", path)) // never overwritten
}

func TestCLIHelpAndErrors(t *testing.T) {
	for _, args := range [][]string{{"help"}, {"--help"}, {"-h"}, {"serve", "--help"}, {"help", "serve"},
		{"user", "--help"}, {"user", "add", "--help"}, {"cluster", "--help"}} {
		r := runCLI(t, nil, "", args...)
		if r.code != 0 || r.stdout == "" || r.stderr != "" {
			t.Errorf("%v: %+v", args, r)
		}
	}
	r := runCLI(t, nil, "", "serve", "--help")
	for _, flag := range []string{"id", "data", "raft", "gossip", "join", "bootstrap-expect", "domain", "smtp",
		"submission", "imap", "pop3", "http", "imaps", "pop3s", "submissions", "smarthost", "max-message-size",
		"resolver", "tls-cert", "tls-key", "config", "cluster-key-file", "log-level", "log-format",
		"snapshot-threshold", "snapshot-interval", "trailing-logs",
		"raft-heartbeat-timeout", "raft-election-timeout", "raft-lease-timeout", "min-free-space"} {
		if !strings.Contains(r.stdout, "-"+flag+" ") {
			t.Errorf("serve --help lacks -%s", flag)
		}
	}
	if r := runCLI(t, nil, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "surat ") {
		t.Errorf("version: %+v", r)
	}
	for _, args := range [][]string{{"frob"}, {"cluster", "frob"}} {
		if r := runCLI(t, nil, "", args...); r.code != exitUsage {
			t.Errorf("%v: exit %d", args, r.code)
		} else {
			oneLineErr(t, r)
		}
	}
	// Refusals of serve: one line, exit non-zero, nothing created.
	data := filepath.Join(t.TempDir(), "data")
	for _, args := range [][]string{
		append(baseArgs(data), "--no-such-flag-acceptance"),
		with(baseArgs(data), "--http", "0.0.0.0:8080"),
	} {
		r := runCLI(t, nil, "", append([]string{"serve"}, args...)...)
		oneLineErr(t, r)
		if _, err := os.Stat(data); !os.IsNotExist(err) {
			t.Fatal("--data created")
		}
		if r.stdout != "" {
			t.Errorf("usage dumped: %q", r.stdout)
		}
	}
}
