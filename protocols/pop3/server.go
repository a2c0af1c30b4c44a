package pop3

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/frontend"
	authn "github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/propose"
)

// Store is the read side a session needs (*mailbox.Store has it). Not-found
// answers are errors for which Config.IsNotFound is true.
type Store interface {
	// User returns the account (password hash) of a canonical address.
	User(address string) (*evlog.UserRecord, error)
	// MailboxByName returns the user's mailbox (INBOX is case-insensitive).
	MailboxByName(address, name string) (*evlog.MailboxRecord, error)
	// Messages calls fn for each message of the mailbox in UID order.
	Messages(mailboxID uint64, fn func(uid uint32, m *evlog.MessageRecord) bool) error
	// Message returns one message: RETR checks it still exists.
	Message(mailboxID uint64, uid uint32) (*evlog.MessageRecord, error)
	// BlobReader streams a stored body.
	BlobReader(hash []byte) (io.ReadCloser, error)
}

// Proposer commits events (*cluster.Node has it).
type Proposer = propose.Proposer

// Config configures one listener's Server.
type Config struct {
	Hostname string      // greeting; required
	TLS      *tls.Config // STLS, or the implicit TLS of --pop3s; required
	// ImplicitTLS: the listener speaks TLS from the first byte (RFC 8314
	// §3.3, port 995) and offers no STLS.
	ImplicitTLS bool
	Store       Store    // required
	Proposer    Proposer // required
	// IsNotFound reports whether a Store error means "no such user or
	// message" (mailbox.ErrNotFound); required.
	IsNotFound func(error) bool
	Logger     *slog.Logger

	// KeepUnseen: RETR does not set \Seen (default: it does).
	KeepUnseen bool
	// SeenFlushInterval and SeenFlushCount bound how long \Seen changes wait
	// for QUIT in a long session; defaults 1 min and 4,096 messages.
	SeenFlushInterval time.Duration
	SeenFlushCount    int

	AuthTimeout      time.Duration // idle time in AUTHORIZATION; default 1 min
	IdleTimeout      time.Duration // idle time in TRANSACTION; default 10 min (RFC 1939 §3 minimum)
	WriteTimeout     time.Duration // per write; default 1 min
	ProposeTimeout   time.Duration // how long QUIT may wait for the cluster; default 30 s
	MaxSessions      int           // open sessions on this listener; default 500
	MaxSessionsPerIP int           // open sessions per client IP; default 20
	MaxBadCommands   int           // unknown or malformed commands before closing; default 20
	MaxSASLLine      int           // octets of a SASL response line; default 12 KiB

	// Login is the node's one login path, shared with SMTP and IMAP (it
	// checks that the node is caught up, bounds verifications, limits
	// guessing and closes a connection after too many failures). Nil: a
	// private one over Store with protocols/login's defaults.
	Login *authn.Authenticator
	// Now is the clock for the \Seen flush interval; default time.Now.
	Now func() time.Time
	// Feed lets the server end sessions whose credentials changed on any
	// node (revoke.go); *mailbox.Store has it. Nil: sessions are never
	// revoked.
	Feed Feed
}

func (c *Config) setDefaults() error {
	switch {
	case c.Hostname == "":
		return errors.New("pop3: Hostname is required")
	case c.TLS == nil:
		return errors.New("pop3: TLS configuration is required")
	case c.Store == nil || c.Proposer == nil || c.IsNotFound == nil:
		return errors.New("pop3: Store, Proposer and IsNotFound are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	setDefault(&c.SeenFlushInterval, time.Minute)
	setDefault(&c.SeenFlushCount, 4096)
	setDefault(&c.AuthTimeout, time.Minute)
	setDefault(&c.IdleTimeout, 10*time.Minute)
	setDefault(&c.WriteTimeout, time.Minute)
	setDefault(&c.ProposeTimeout, 30*time.Second)
	setDefault(&c.MaxSessions, 500)
	setDefault(&c.MaxSessionsPerIP, 20)
	setDefault(&c.MaxBadCommands, 20)
	setDefault(&c.MaxSASLLine, 12<<10)
	if c.Login == nil {
		var err error
		if c.Login, err = authn.New(authn.Config{Directory: c.Store, IsNotFound: c.IsNotFound}); err != nil {
			return fmt.Errorf("pop3: %w", err)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

func setDefault[T int | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// Server serves POP3 on listeners given to Serve.
type Server struct {
	cfg Config
	log *slog.Logger

	// fe accepts, admits and drains the sessions. Its context is the
	// parent of every session's and bounds a QUIT's UPDATE and the \Seen
	// flush of a dropped session; Close, or a Shutdown past its deadline,
	// cancels it.
	fe *frontend.Server[*session]

	revocations *authn.Revocations // nil without Config.Feed
}

// New validates cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	kind := "pop3"
	if cfg.ImplicitTLS {
		kind = "pop3s"
	}
	s := &Server{cfg: cfg, log: cfg.Logger.With("listener", kind)}
	fcfg := frontend.Config[*session]{
		Name: "pop3", Log: s.log,
		MaxSessions: cfg.MaxSessions, MaxSessionsPerIP: cfg.MaxSessionsPerIP,
		NewSession: func(conn net.Conn) *session { return newSession(s, conn) },
		Refusal:    errTooManyConns,
	}
	if cfg.ImplicitTLS {
		fcfg.RefusalTLS = cfg.TLS // the refusal too comes over TLS
	}
	s.fe = frontend.New(fcfg)
	if cfg.Feed != nil {
		s.revocations = authn.WatchRevocations(cfg.Login, cfg.Feed, s.fe.Sessions, s.log)
	}
	return s, nil
}

// stopRevocations ends the revocation watcher (Shutdown and Close).
func (s *Server) stopRevocations() {
	if s.revocations != nil {
		s.revocations.Close()
	}
}

// Serve accepts connections on ln (plain TCP; Serve adds TLS for an
// implicit-TLS server) until Shutdown or Close, which make it return nil.
// A client over the limits gets errTooManyConns (over TLS first on an
// implicit-TLS listener).
func (s *Server) Serve(ln net.Listener) error { return s.fe.Serve(ln) }

// Sessions is the number of open sessions.
func (s *Server) Sessions() int { return s.fe.Open() }

// Shutdown stops accepting and ends idle sessions at once (a session
// waiting for a command has nothing in flight: it never reached UPDATE, so
// it deletes nothing), ends the waits of logins at once, lets busy
// sessions finish their command (a QUIT its UPDATE) until ctx ends,
// then cuts the rest off. A QUIT whose commit is cut off was not answered
// +OK, so the client does not believe its messages deleted.
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
