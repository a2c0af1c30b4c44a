package pop3

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/ratelimit"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// memStore is an in-memory Store: one user "u@x" (password "pw") whose
// INBOX holds a few messages; UID 2 is "expunged meanwhile" (listed at
// login, gone for Message).
type memStore struct{ bodies map[uint32][]byte }

func newMemStore() *memStore {
	return &memStore{bodies: map[uint32][]byte{
		1: []byte("Subject: a\r\n\r\n.dot\r\nbody\r\n"),
		2: []byte("Subject: gone\r\n\r\nx\r\n"),
		3: []byte("no header end\n.x"),
		4: {},
	}}
}

func (m *memStore) User(addr string) (*evlog.UserRecord, error) {
	if addr != "u@x" {
		return nil, mailbox.ErrNotFound
	}
	return &evlog.UserRecord{Address: addr, PasswordHash: "pw"}, nil
}

func (m *memStore) MailboxByName(addr, _ string) (*evlog.MailboxRecord, error) {
	return &evlog.MailboxRecord{Id: 1, Address: addr, Name: "INBOX", UidValidity: 42, Messages: 4}, nil
}

func (m *memStore) Messages(_ uint64, fn func(uint32, *evlog.MessageRecord) bool) error {
	for uid := uint32(1); uid <= 4; uid++ {
		h := sha256.Sum256(m.bodies[uid])
		if !fn(uid, &evlog.MessageRecord{Blob: h[:], Size: uint64(len(m.bodies[uid]))}) {
			break
		}
	}
	return nil
}

func (m *memStore) Message(_ uint64, uid uint32) (*evlog.MessageRecord, error) {
	if uid == 2 {
		return nil, mailbox.ErrNotFound
	}
	return &evlog.MessageRecord{}, nil
}

func (m *memStore) BlobReader(hash []byte) (io.ReadCloser, error) {
	for _, b := range m.bodies {
		if h := sha256.Sum256(b); bytes.Equal(h[:], hash) {
			return io.NopCloser(bytes.NewReader(b)), nil
		}
	}
	return nil, mailbox.ErrNotFound
}

// okProposer accepts every proposal.
type okProposer struct{}

func (okProposer) Propose(_ context.Context, p []byte) ([]byte, error) {
	if _, err := evlog.DecodeBatch(p); err != nil {
		return nil, err
	}
	return evlog.EncodeOutcome(&evlog.Outcome{})
}

// pipeConn is a net.Conn reading a fixed input and discarding output.
type pipeConn struct {
	r   io.Reader
	out bytes.Buffer
}

func (c *pipeConn) Read(p []byte) (int, error)       { return c.r.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error)      { return c.out.Write(p) }
func (c *pipeConn) Close() error                     { return nil }
func (c *pipeConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (c *pipeConn) RemoteAddr() net.Addr             { return &net.TCPAddr{IP: net.IPv4(192, 0, 2, 1), Port: 1} }
func (c *pipeConn) SetDeadline(time.Time) error      { return nil }
func (c *pipeConn) SetReadDeadline(time.Time) error  { return nil }
func (c *pipeConn) SetWriteDeadline(time.Time) error { return nil }

func noSleep(context.Context, time.Duration) error { return nil }
func plainVerify(hash, pw string) (bool, error)    { return hash == pw, nil }

// runSession serves in on a session of srv and returns what it wrote.
func runSession(srv *Server, in []byte, tls bool) string {
	conn := &pipeConn{r: bytes.NewReader(in)}
	s := newSession(srv, conn)
	s.tls = tls // pretend STLS happened, to reach USER/PASS/AUTH
	s.Run()
	return conn.out.String()
}

func fuzzServer(tb testing.TB, st Store) *Server { return fuzzServerWith(tb, st, nil) }

// panicCatcher is a logger that records the sessions' panic reports.
func panicCatcher(panics *[]string) *slog.Logger {
	return slog.New(&panicHandler{panics: panics})
}

type panicHandler struct{ panics *[]string }

func (h *panicHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h *panicHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *panicHandler) WithGroup(string) slog.Handler            { return h }
func (h *panicHandler) Handle(_ context.Context, r slog.Record) error {
	if strings.Contains(r.Message, "panic") {
		msg := r.Message
		r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
		*h.panics = append(*h.panics, msg)
	}
	return nil
}

var fuzzTLS struct {
	once sync.Once
	cfg  *tls.Config
	err  error
}

func tlsConfigForFuzz(tb testing.TB) *tls.Config {
	fuzzTLS.once.Do(func() {
		dir, err := os.MkdirTemp("", "surat-pop3-fuzz-")
		if err != nil {
			fuzzTLS.err = err
			return
		}
		defer os.RemoveAll(dir)
		fuzzTLS.cfg, fuzzTLS.err = tlsconf.Server(tlsconf.Options{DataDir: dir})
	})
	if fuzzTLS.err != nil {
		tb.Fatal(fuzzTLS.err)
	}
	return fuzzTLS.cfg
}

func fuzzServerWith(tb testing.TB, st Store, tweak func(*Config)) *Server {
	a, err := authn.New(authn.Config{Directory: st, IsNotFound: isNotFound, Verify: plainVerify,
		Limiter: ratelimit.New(ratelimit.Config{Sleep: noSleep})})
	if err != nil {
		tb.Fatal(err)
	}
	cfg := Config{
		Hostname: "h", Store: st, TLS: tlsConfigForFuzz(tb), Proposer: okProposer{}, IsNotFound: isNotFound,
		Login: a,
	}
	if tweak != nil {
		tweak(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return srv
}

// TestSessionInMemory runs a scripted session against memStore: the
// in-memory path the fuzz target explores.
func TestSessionInMemory(t *testing.T) {
	srv := fuzzServer(t, newMemStore())
	out := runSession(srv, []byte("USER u@x\r\nPASS pw\r\nSTAT\r\nRETR 1\r\nRETR 2\r\nTOP 3 0\r\nRETR 4\r\nUIDL 1\r\nDELE 2\r\nQUIT\r\n"), true)
	want := []string{
		"+OK h Surat POP3 server ready", "+OK Send PASS", "+OK Logged in, 4 messages (",
		"+OK 4 ", "+OK 26 octets", "Subject: a", "", "..dot", "body", ".",
		"-ERR Message was deleted by another session",
		"+OK Top of message follows", "no header end", "..x", ".",
		"+OK 0 octets", ".", "+OK 1 42.1", "+OK Message 2 deleted", "+OK Bye (1 messages deleted, 3 left)",
	}
	got := strings.Split(strings.TrimSuffix(out, "\r\n"), "\r\n")
	if len(got) != len(want) {
		t.Fatalf("session output:\n%s", out)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) || want[i] == "" && got[i] != "" {
			t.Fatalf("line %d: %q, want %q\n%s", i, got[i], want[i], out)
		}
	}
}

// FuzzSession feeds arbitrary client input to a whole session (parser,
// state machine, SASL, RETR/TOP streaming) over memStore. It must always
// end and never panic: the per-connection recover would keep the server
// up, so the target fails on the panic it logs.
func FuzzSession(f *testing.F) {
	for _, seed := range []string{
		"CAPA\r\nQUIT\r\n",
		"USER u@x\r\nPASS pw\r\nSTAT\r\nLIST\r\nUIDL\r\nRETR 1\r\nTOP 1 1\r\nDELE 1\r\nRSET\r\nNOOP\r\nQUIT\r\n",
		"AUTH PLAIN AHVAeABwdw==\r\nRETR 3\r\nTOP 3 0\r\nRETR 2\r\nDELE 9\r\nQUIT\r\n",
		"AUTH PLAIN\r\nAHVAeABwdw==\r\nLIST 1\r\nUIDL 2\r\nQUIT\r\n",
		"AUTH PLAIN\r\n*\r\nAUTH\r\nSTLS\r\n\x00\xff\r\n" + strings.Repeat("A", 300) + "\r\n",
		"USER u@x\r\nPASS pw\r\nTOP 1 99999999999\r\nRETR 4294967296\r\nLIST -1\r\nQUIT\r\n",
	} {
		f.Add([]byte(seed), true)
		f.Add([]byte(seed), false)
	}
	st := newMemStore()
	var panics []string
	srv := fuzzServerWith(f, st, func(cfg *Config) {
		cfg.Logger = panicCatcher(&panics)
		cfg.AuthTimeout = time.Second // STLS handshakes on junk input end fast
	})
	f.Fuzz(func(t *testing.T, in []byte, tls bool) {
		runSession(srv, in, tls)
		if len(panics) > 0 {
			t.Fatalf("session panicked: %s", panics[0])
		}
	})
}

// FuzzParseCommand: the parser never panics and what it accepts is a 3-4
// letter upper-case keyword.
func FuzzParseCommand(f *testing.F) {
	for _, s := range []string{"STAT", "LIST 1", "TOP 1 2", "PASS a b", "", "\x00", "auth plain ="} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		cmd, err := parseCommand(line)
		if err != nil {
			return
		}
		if len(cmd.name) < 3 || len(cmd.name) > 4 || strings.ToUpper(cmd.name) != cmd.name {
			t.Fatalf("accepted keyword %q", cmd.name)
		}
		for _, a := range cmd.args {
			parseNumber(a)
		}
	})
}

// FuzzDotWriter: stuffing then unstuffing gives back the body with CRLF
// line endings, whatever the chunking.
func FuzzDotWriter(f *testing.F) {
	f.Add([]byte(".\r\n..\r\nx\n.y"), uint8(3))
	f.Fuzz(func(t *testing.T, body []byte, step uint8) {
		out := stuff(string(body), int(step)+1)
		if !strings.HasSuffix(out, "\r\n.\r\n") && out != ".\r\n" {
			t.Fatalf("no terminator: %q", out)
		}
		r := bufio.NewReader(strings.NewReader(out))
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				t.Fatalf("ran past the terminator: %q", out)
			}
			if !strings.HasSuffix(line, "\r\n") {
				t.Fatalf("line without CRLF %q in %q", line, out)
			}
			if line == ".\r\n" {
				if r.Buffered() != 0 {
					t.Fatalf("terminator before the end: %q", out)
				}
				return
			}
		}
	})
}
