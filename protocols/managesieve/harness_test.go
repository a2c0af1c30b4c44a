package managesieve

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/login/logintest"
	"github.com/surat-mail/surat/protocols/protocoltest"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// These tests run the server on a real loopback listener with real TLS
// (STARTTLS), an in-memory Scripts store (memScripts) and the real login
// path (protocols/login) over a directory of test users.

const (
	testUser     = "alice@example.test"
	testPassword = "correct horse battery staple"
)

// memScripts is an in-memory Scripts, enforcing the limits and the rules
// the replicated store applies (the active script is not deleted, a rename
// keeps it active).
type memScripts struct {
	mu      sync.Mutex
	scripts map[string]map[string][]byte // owner → name → source
	active  map[string]string            // owner → active name
	fail    error                        // when set, every call returns it
}

func newMemScripts() *memScripts {
	return &memScripts{scripts: map[string]map[string][]byte{}, active: map[string]string{}}
}

func (m *memScripts) List(_ context.Context, owner string) ([]ScriptInfo, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	var out []ScriptInfo
	for name, src := range m.scripts[owner] {
		out = append(out, ScriptInfo{Name: name, Active: m.active[owner] == name, Size: int64(len(src))})
	}
	slices.SortFunc(out, func(a, b ScriptInfo) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

func (m *memScripts) Get(_ context.Context, owner, name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return nil, m.fail
	}
	src, ok := m.scripts[owner][name]
	if !ok {
		return nil, fmt.Errorf("get %q: %w", name, ErrNonexistent)
	}
	return src, nil
}

func (m *memScripts) Put(_ context.Context, owner, name string, src []byte, lim Limits) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	own := m.scripts[owner]
	if own == nil {
		own = map[string][]byte{}
		m.scripts[owner] = own
	}
	if _, ok := own[name]; !ok && lim.MaxScripts > 0 && len(own) >= lim.MaxScripts {
		return ErrQuotaMaxScripts
	}
	if lim.MaxScriptBytes > 0 && int64(len(src)) > lim.MaxScriptBytes {
		return ErrQuotaMaxSize
	}
	own[name] = slices.Clone(src)
	return nil
}

func (m *memScripts) Delete(_ context.Context, owner, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if _, ok := m.scripts[owner][name]; !ok {
		return ErrNonexistent
	}
	if m.active[owner] == name {
		return ErrActive
	}
	delete(m.scripts[owner], name)
	return nil
}

func (m *memScripts) Rename(_ context.Context, owner, oldName, newName string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	src, ok := m.scripts[owner][oldName]
	if !ok {
		return ErrNonexistent
	}
	if _, taken := m.scripts[owner][newName]; taken {
		return ErrAlreadyExists
	}
	delete(m.scripts[owner], oldName)
	m.scripts[owner][newName] = src
	if m.active[owner] == oldName {
		m.active[owner] = newName
	}
	return nil
}

func (m *memScripts) Activate(_ context.Context, owner, name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	if name == "" {
		delete(m.active, owner)
		return nil
	}
	if _, ok := m.scripts[owner][name]; !ok {
		return ErrNonexistent
	}
	m.active[owner] = name
	return nil
}

func (m *memScripts) activeOf(owner string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.active[owner]
}

func (m *memScripts) setFail(err error) {
	m.mu.Lock()
	m.fail = err
	m.mu.Unlock()
}

// directory is a login.Directory of test users; a password "hash" is
// "plain:" + the password (see fakeVerify), so a login costs no argon2id.
type directory map[string]*evlog.UserRecord

func (d directory) User(addr string) (*evlog.UserRecord, error) {
	if u, ok := d[addr]; ok {
		return u, nil
	}
	return nil, mailbox.ErrNotFound
}

func fakeVerify(hash, password string) (bool, error) { return hash == "plain:"+password, nil }

// testServer is a running server and what it was built from.
type testServer struct {
	srv     *Server
	addr    string
	scripts *memScripts
	tls     *tls.Config
}

// testCheck refuses scripts containing "syntax error" the way a compiler
// would, with a line number.
func testCheck(src []byte) error {
	for i, line := range strings.Split(string(src), "\n") {
		if strings.Contains(line, "syntax error") {
			return fmt.Errorf("line %d: syntax error: unexpected %q", i+1, "error")
		}
	}
	return nil
}

// testTLS is a self-signed server configuration, made once per test.
func testTLS(t testing.TB) *tls.Config {
	t.Helper()
	cfg, err := tlsconf.Server(tlsconf.Options{DataDir: t.TempDir(), Hostnames: []string{"sieve.example.test"}})
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// startServer serves on a loopback listener until the test ends.
func startServer(t testing.TB, tweak func(*Config)) *testServer {
	t.Helper()
	ts := &testServer{scripts: newMemScripts(), tls: testTLS(t)}
	dir := directory{
		testUser:           {Address: testUser, PasswordHash: "plain:" + testPassword, CredentialIndex: 1},
		"bob@example.test": {Address: "bob@example.test", PasswordHash: "plain:" + testPassword, CredentialIndex: 1},
	}
	cfg := Config{
		Hostname: "sieve.example.test", TLS: ts.tls, Scripts: ts.scripts, Check: testCheck,
		Extensions:   []string{"fileinto", "vacation", "envelope"},
		MaxRedirects: 4,
		Login:        logintest.New(t, dir, authn.Config{Verify: fakeVerify}),
		Logger:       protocoltest.Logger(),
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.srv = srv
	ts.addr = protocoltest.Serve(t, srv)
	return ts
}

// client is a byte-exact ManageSieve client for tests.
type client struct {
	t    testing.TB
	conn net.Conn
	r    *bufio.Reader
}

// response is a final OK/NO/BYE line and the data lines before it.
type response struct {
	status, code, text string
	lines              [][]string // tokens of each data line; a literal is one token
}

func (r response) String() string {
	return fmt.Sprintf("%s (%s) %q", r.status, r.code, r.text)
}

func dial(t testing.TB, addr string) (*client, response) {
	t.Helper()
	c := &client{t: t, conn: protocoltest.Dial(t, addr, false)}
	c.r = bufio.NewReader(c.conn)
	greeting := c.read()
	if greeting.status != "OK" {
		t.Fatalf("greeting: %v", greeting)
	}
	return c, greeting
}

// login dials, upgrades with STARTTLS and authenticates as user.
func login(t testing.TB, addr, user string) *client {
	t.Helper()
	c, _ := dial(t, addr)
	c.starttls()
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(user, testPassword))); r.status != "OK" {
		t.Fatalf("AUTHENTICATE: %v", r)
	}
	return c
}

func (c *client) starttls() response {
	c.t.Helper()
	if r := c.cmd("STARTTLS"); r.status != "OK" {
		c.t.Fatalf("STARTTLS: %v", r)
	}
	tc := tls.Client(c.conn, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		c.t.Fatal(err)
	}
	c.conn, c.r = tc, bufio.NewReader(tc)
	caps := c.read()
	if caps.status != "OK" {
		c.t.Fatalf("capabilities after STARTTLS: %v", caps)
	}
	return caps
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.conn.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a command line (CRLF added) and reads its response.
func (c *client) cmd(line string) response {
	c.t.Helper()
	c.send(line + "\r\n")
	return c.read()
}

var literalAtEnd = regexp.MustCompile(`\{(\d+)\}$`)

// read reads data lines up to the final OK, NO or BYE; a closed
// connection is status "EOF".
func (c *client) read() response {
	c.t.Helper()
	var resp response
	for {
		toks, err := c.tokens()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			resp.status, resp.text = "TIMEOUT", err.Error()
			return resp
		}
		if err != nil {
			resp.status, resp.text = "EOF", err.Error()
			return resp
		}
		if len(toks) > 0 && (toks[0] == "OK" || toks[0] == "NO" || toks[0] == "BYE") {
			resp.status = toks[0]
			rest := toks[1:]
			if len(rest) > 0 && strings.HasPrefix(rest[0], "(") {
				code := []string{}
				for len(rest) > 0 {
					code = append(code, rest[0])
					done := strings.HasSuffix(rest[0], ")")
					rest = rest[1:]
					if done {
						break
					}
				}
				resp.code = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.Join(code, " "), "("), ")"))
			}
			if len(rest) > 0 {
				resp.text = rest[0]
			}
			return resp
		}
		resp.lines = append(resp.lines, toks)
	}
}

// tokens reads one logical line: atoms, strings (unquoted) and literals.
func (c *client) tokens() ([]string, error) {
	var toks []string
	for {
		_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
		line, err := c.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if !strings.HasSuffix(line, "\r\n") {
			c.t.Fatalf("line without CRLF: %q", line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		m := literalAtEnd.FindStringSubmatchIndex(line)
		head := line
		if m != nil {
			head = line[:m[0]]
		}
		toks = append(toks, splitTokens(c.t, head)...)
		if m == nil {
			return toks, nil
		}
		n, _ := strconv.Atoi(line[m[2]:m[3]])
		buf := make([]byte, n)
		if _, err := ioReadFull(c.r, buf); err != nil {
			return nil, err
		}
		toks = append(toks, string(buf))
	}
}

func splitTokens(t testing.TB, s string) []string {
	var toks []string
	for i := 0; i < len(s); {
		switch s[i] {
		case ' ':
			i++
		case '"':
			var b strings.Builder
			j := i + 1
			for ; j < len(s) && s[j] != '"'; j++ {
				if s[j] == '\\' {
					j++
				}
				b.WriteByte(s[j])
			}
			if j >= len(s) {
				t.Fatalf("unterminated string in %q", s)
			}
			toks = append(toks, b.String())
			i = j + 1
		default:
			j := strings.IndexAny(s[i:], " \"")
			if j < 0 {
				j = len(s) - i
			}
			toks = append(toks, s[i:i+j])
			i += j
		}
	}
	return toks
}

func ioReadFull(r *bufio.Reader, buf []byte) (int, error) {
	n := 0
	for n < len(buf) {
		m, err := r.Read(buf[n:])
		n += m
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// quote is a quoted string.
func quote(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// lit is a non-synchronizing literal.
func lit(s string) string { return "{" + strconv.Itoa(len(s)) + "+}\r\n" + s }

// plain is a SASL PLAIN initial response.
func plain(user, password string) string {
	return b64("\x00" + user + "\x00" + password)
}

// caps maps the capability lines of r to their values.
func caps(r response) map[string]string {
	out := map[string]string{}
	for _, l := range r.lines {
		if len(l) > 0 {
			v := ""
			if len(l) > 1 {
				v = l[1]
			}
			out[l[0]] = v
		}
	}
	return out
}

var errBoom = errors.New("no quorum")

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func newReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
