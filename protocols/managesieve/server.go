package managesieve

import (
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/frontend"
	authn "github.com/surat-mail/surat/protocols/login"
)

// Defaults (PLAN: scripts ≤ 64 KiB, ≤ 32 per user, ≤ 4 redirects).
const (
	DefaultMaxScripts     = 32
	DefaultMaxScriptBytes = 64 << 10
)

// RefusalBanned is the line a banned client gets at connect instead of the
// greeting (protocols/bans.Gate's Refusal): RFC 5804 §1.2 lets a server
// answer BYE at any time.
const RefusalBanned = `BYE "Client address is banned by this server"`

// Feed is what revocation needs from the store (*mailbox.Store has it).
type Feed interface {
	Subscribe(address string) *mailbox.Subscription
	// AppliedIndex is the last log index applied here.
	AppliedIndex() uint64
}

// Config configures a Server.
type Config struct {
	// Hostname names the server in the greeting's text; required.
	Hostname string
	// TLS is STARTTLS's configuration (the node's certificate, as IMAP's
	// and POP3's); required: AUTHENTICATE is refused before TLS.
	TLS *tls.Config
	// Login is the node's one login path, shared with SMTP, IMAP and POP3;
	// required.
	Login *authn.Authenticator
	// Scripts keeps the scripts; required.
	Scripts Scripts
	// Check validates a script (PUTSCRIPT, CHECKSCRIPT, SETACTIVE): nil
	// or an error whose text, line number included, goes to the client.
	// Nil: every script is accepted (tests only).
	Check func(src []byte) error
	// Extensions is the SIEVE capability (RFC 5804 §1.7): the Sieve
	// extensions Check accepts, sieve.Extensions().
	Extensions []string
	// MaxRedirects is the MAXREDIRECTS capability; 0: not advertised.
	MaxRedirects int
	// Limits bound each user's scripts; zero fields get the defaults
	// (DefaultMaxScripts, DefaultMaxScriptBytes).
	Limits Limits
	Logger *slog.Logger

	// Feed lets the server end sessions whose credentials changed on any
	// node; *mailbox.Store has it. Nil: sessions are never revoked.
	Feed Feed

	AuthTimeout      time.Duration // idle time before login; default 1 min
	IdleTimeout      time.Duration // idle time after login; default 10 min
	WriteTimeout     time.Duration // per write; default 1 min
	StoreTimeout     time.Duration // one store operation (a commit); default 30 s
	MaxSessions      int           // open sessions; default 200
	MaxSessionsPerIP int           // open sessions per client IP; default 10
	MaxBadCommands   int           // malformed or unknown commands before BYE; default 20
	MaxLine          int           // octets of a command line; default 8 KiB
}

func (c *Config) setDefaults() error {
	switch {
	case c.Hostname == "":
		return errors.New("managesieve: Hostname is required")
	case c.TLS == nil:
		return errors.New("managesieve: TLS configuration is required")
	case c.Login == nil:
		return errors.New("managesieve: Login is required")
	case c.Scripts == nil:
		return errors.New("managesieve: Scripts is required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Limits.MaxScripts <= 0 {
		c.Limits.MaxScripts = DefaultMaxScripts
	}
	if c.Limits.MaxScriptBytes <= 0 {
		c.Limits.MaxScriptBytes = DefaultMaxScriptBytes
	}
	setDefault(&c.AuthTimeout, time.Minute)
	setDefault(&c.IdleTimeout, 10*time.Minute)
	setDefault(&c.WriteTimeout, time.Minute)
	setDefault(&c.StoreTimeout, 30*time.Second)
	setDefault(&c.MaxSessions, 200)
	setDefault(&c.MaxSessionsPerIP, 10)
	setDefault(&c.MaxBadCommands, 20)
	setDefault(&c.MaxLine, 8<<10)
	return nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Server serves ManageSieve on the listeners given to Serve.
type Server struct {
	cfg Config
	log *slog.Logger

	// fe accepts, admits and drains the sessions. Its context is the
	// parent of every session's; Close, or a Shutdown past its deadline,
	// cancels it.
	fe *frontend.Server[*session]

	revocations *authn.Revocations // nil without Config.Feed
	stopOnce    sync.Once
}

// New validates cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("listener", "managesieve")}
	s.fe = frontend.New(frontend.Config[*session]{
		Name: "managesieve", Log: s.log,
		MaxSessions: cfg.MaxSessions, MaxSessionsPerIP: cfg.MaxSessionsPerIP,
		NewSession: func(conn net.Conn) *session { return newSession(s, conn) },
		// RFC 5804 §1.3: TRYLATER, the client may come back later.
		Refusal: `BYE (TRYLATER) "Too many connections, try again later"`,
	})
	if cfg.Feed != nil {
		s.revocations = authn.WatchRevocations(cfg.Login, cfg.Feed, s.fe.Sessions, s.log)
	}
	return s, nil
}

// Serve accepts connections on ln (plain TCP: TLS comes with STARTTLS)
// until Shutdown or Close, which make it return nil.
func (s *Server) Serve(ln net.Listener) error { return s.fe.Serve(ln) }

// Sessions is the number of open sessions.
func (s *Server) Sessions() int { return s.fe.Open() }

// Shutdown stops accepting, ends idle sessions at once, lets the commands
// in flight (a PUTSCRIPT's commit) finish until ctx ends, then cuts the
// rest off. A command cut off was not answered OK.
func (s *Server) Shutdown(ctx context.Context) error {
	defer s.stopRevocations()
	return s.fe.Shutdown(ctx)
}

// Close stops at once, cutting every session.
func (s *Server) Close() error {
	err := s.fe.Close()
	s.stopRevocations()
	return err
}

func (s *Server) stopRevocations() {
	s.stopOnce.Do(func() {
		if s.revocations != nil {
			s.revocations.Close()
		}
	})
}
