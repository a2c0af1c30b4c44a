package smtp

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/connlimit"
	"github.com/surat-mail/surat/protocols/frontend"
	"github.com/surat-mail/surat/protocols/pipeline"

	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/propose"
)

// Kind is what a listener is for.
type Kind int

const (
	// MX takes mail for local domains from anyone: no AUTH, STARTTLS
	// offered (RFC 5321, RFC 3207).
	MX Kind = iota
	// Submission takes mail from authenticated users after STARTTLS
	// (RFC 6409 on port 587).
	Submission
	// Submissions is Submission over implicit TLS (RFC 8314 §3.3, port 465).
	Submissions
)

func (k Kind) String() string {
	switch k {
	case MX:
		return "mx"
	case Submission:
		return "submission"
	case Submissions:
		return "submissions"
	}
	return fmt.Sprintf("kind(%d)", int(k))
}

func (k Kind) submission() bool { return k == Submission || k == Submissions }

// Directory is the read side this package needs (*mailbox.Store has it).
// Not-found answers are errors for which IsNotFound (Config) is true.
type Directory interface {
	// ResolveAddress maps a canonical address to the user receiving its
	// mail: an alias to its target, a user to itself.
	ResolveAddress(address string) (user string, err error)
	// IsLocalDomain reports whether mail for domain is delivered here.
	IsLocalDomain(domain string) (bool, error)
	// User returns the account (password hash, quota) of a canonical address.
	User(address string) (*evlog.UserRecord, error)
}

// Addressing is an optional extension of Directory: a local domain's
// addressing settings (DomainSettingsChanged.catch_all and .plus_folders).
// A Directory without it has no catch-all and no plus folders; plus
// addressing itself (user+tag reaching user, RFC 5233) needs no setting.
type Addressing interface {
	// DomainAddressing returns the user (or alias) that receives mail for
	// the domain's unknown local parts, empty for none, and whether mail
	// to user+tag is filed into the user's mailbox named tag. A domain
	// without settings answers "", false and no error (or an error for
	// which IsNotFound is true).
	DomainAddressing(domain string) (catchAll string, plusFolders bool, err error)
}

// PublicFolders is an optional extension of Directory: the account whose
// mailboxes are a local domain's public folders (IMAP's "Shared/"
// namespace), so that Sieve's fileinto "Shared/<name>" files there. A
// Directory without it has none.
type PublicFolders interface {
	// PublicFolders returns the account, "" for none.
	PublicFolders(domain string) (string, error)
}

// publicAccount is the account of domain's public folders, "" for none
// or when it cannot be read (the filing then goes where a personal
// "Shared/..." name goes).
func (s *Server) publicAccount(domain string) string {
	p, ok := s.cfg.Directory.(PublicFolders)
	if !ok {
		return ""
	}
	a, err := p.PublicFolders(domain)
	if err != nil {
		s.cfg.Logger.Warn("smtp: reading the public folders' account failed", "domain", domain, "err", err)
		return ""
	}
	return a
}

// SRS is the Sender Rewriting Scheme (protocols/srs has it): forwarded
// mail leaves with an envelope sender of ours, so that SPF passes at the
// destination, and the bounces to it find their way back.
type SRS interface {
	// Forward returns the envelope sender for a message from sender that
	// we forward; the null sender stays null.
	Forward(sender string) (string, error)
	// Reverse returns the original sender of one of our SRS addresses, or
	// an error when it is not one, is forged or has expired.
	Reverse(addr string) (string, error)
}

// Proposer commits events (*cluster.Node has it).
type Proposer = propose.Proposer

// Outbound is a message for non-local recipients, handed to the Relay.
type Outbound struct {
	From       string   // envelope sender
	Recipients []string // non-local, as given in RCPT TO
	Blob       []byte   // SHA-256 of the stored body (already in the batch)
	Size       uint64
	Received   time.Time
	User       string // authenticated submitter

	// DSN parameters (RFC 3461) as the client gave them on MAIL and RCPT.
	EnvID  string            // ENVID, §4.4
	Return string            // RET, §4.3: "FULL", "HDRS" or ""
	Params []RecipientParams // per entry of Recipients, same order
}

// RecipientParams are one RCPT's DSN parameters (RFC 3461 §4.1, §4.2).
type RecipientParams struct {
	Notify []string // NEVER, or any of SUCCESS, FAILURE, DELAY; empty: not given
	ORCPT  string   // "addr-type;address", or ""
	// RequireTLS: the transaction's MAIL had REQUIRETLS (RFC 8689 §4.1),
	// which the queue must honour for this recipient.
	RequireTLS bool
}

// Relay is the outbound queue. Its events are proposed in the same batch as
// the body's last chunk and the local Delivered event, so that one 250
// covers every recipient (one delivery, one proposal). Nil: no relay; a
// non-local recipient of a submission then gets 451 4.3.0.
type Relay interface {
	// QueueEvents returns the events that queue m for delivery.
	QueueEvents(m Outbound) ([]*evlog.Event, error)
}

// Config configures one listener's Server.
type Config struct {
	Kind      Kind
	Hostname  string      // banner, Received "by"; required
	TLS       *tls.Config // STARTTLS, or the implicit TLS of Submissions; required
	Directory Directory   // required
	Proposer  Proposer    // required
	// IsNotFound reports whether a Directory error means "no such
	// address/user" (mailbox.ErrNotFound); required.
	IsNotFound func(error) bool
	// ReadBarrier waits until the node has applied all the leader had
	// committed (*cluster.Node has it). An unknown local recipient is
	// looked up again after it before it gets 550 5.1.1; when it fails,
	// the recipient gets 451 4.3.0. Nil: the node's state is taken as it
	// is.
	ReadBarrier func(ctx context.Context) error
	// StorageLow reports whether the node refuses writes for lack of disk
	// space (*cluster.Node has it); then MAIL gets 452 4.3.1 at once,
	// before the client sends a body. Nil: never.
	StorageLow func() bool
	// LocalDomains are the node's --domain values, local even before the
	// directory knows them (a domain enters the store with its first user).
	LocalDomains []string
	Relay        Relay // nil: outbound not available
	// SRS rewrites the envelope sender of mail the checks redirect (Sieve
	// redirect, a user's forwarding) and takes bounces to the rewritten
	// addresses back to their original sender (sieve.go). Nil: redirected
	// mail keeps its sender (SPF at the destination may then fail) and
	// SRS addresses are unknown recipients.
	SRS SRS
	// MaxMailboxes and MaxMailboxDepth bound the mailboxes a Sieve
	// fileinto :create makes, as IMAP's CREATE limits (stamped into
	// Delivered); 0: 1,000 and 16 levels (IMAP's defaults), negative: none.
	MaxMailboxes, MaxMailboxDepth int
	// Postmaster receives mail to postmaster@ of every local domain that
	// has no such user or alias (RFC 5321 §4.5.1); default
	// postmaster@<first local domain>.
	Postmaster string
	Logger     *slog.Logger

	MaxMessageSize   int64         // bytes; default 25 MiB
	MaxRecipients    int           // default 100 (RFC 5321 §4.5.3.1.8 minimum)
	ReadTimeout      time.Duration // idle time per read; default 5 min (RFC 5321 §4.5.3.2.7)
	WriteTimeout     time.Duration // per write; default 1 min
	MaxSessions      int           // open sessions on this listener; default 500
	MaxSessionsPerIP int           // open sessions per client IP; default 20
	ProposeTimeout   time.Duration // how long a delivery may wait for the cluster; default 30 s
	// MaxSendPerHour bounds the remote recipients one authenticated user
	// may queue in an hour, cluster-wide (sendlimits.go); default 500,
	// negative: no limit.
	MaxSendPerHour int
	// MaxQueuedBytesPerUser bounds the bytes of one user's messages
	// waiting in the outbound queue; default 256 MiB, negative: no limit.
	MaxQueuedBytesPerUser int64
	// MaxSessionDuration bounds one connection's whole length and
	// MaxTransactions its MAIL commands (sessionlimits.go); defaults 30 min
	// and 1,000, negative: unbounded.
	MaxSessionDuration time.Duration
	MaxTransactions    int
	// Login is the node's one login path (AUTH), shared with IMAP and
	// POP3; its limiter also counts unknown recipients (RCPT). Nil: a
	// private one over Directory with protocols/login's defaults.
	Login *login.Authenticator
	// Checks judge each message before its delivery is proposed (SPF,
	// DKIM, DMARC on the MX port; From alignment and DKIM signing on
	// submission), in order; see protocols/pipeline.
	Checks []pipeline.Check
	// ConnChecks judge the client when it greets (EHLO or HELO), on the
	// MX port only (a DNSBL, RFC 5782): a *pipeline.Reply refuses it with
	// that reply, another error is 451 4.7.0 (connchecks.go).
	ConnChecks []pipeline.ConnCheck
	// ConnCheckTimeout bounds the connection checks of one greeting;
	// default 10 s (DefaultConnCheckTimeout). Past it the client gets 451.
	ConnCheckTimeout time.Duration
	// CheckTimeout bounds the checks' work after the end of DATA (DNS
	// look-ups, mostly); default 30 s. Past it the message gets 451.
	CheckTimeout time.Duration
	// Now is the clock for internal dates and Received; default time.Now.
	Now func() time.Time
}

func (c *Config) setDefaults() error {
	switch {
	case c.Hostname == "":
		return errors.New("smtp: Hostname is required")
	case c.TLS == nil:
		return errors.New("smtp: TLS configuration is required")
	case c.Directory == nil || c.Proposer == nil || c.IsNotFound == nil:
		return errors.New("smtp: Directory, Proposer and IsNotFound are required")
	case c.Kind < MX || c.Kind > Submissions:
		return fmt.Errorf("smtp: unknown listener kind %d", c.Kind)
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxMessageSize <= 0 {
		c.MaxMessageSize = 25 << 20
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = 100
	}
	if c.ReadTimeout <= 0 {
		c.ReadTimeout = 5 * time.Minute
	}
	if c.WriteTimeout <= 0 {
		c.WriteTimeout = time.Minute
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 500
	}
	if c.MaxSessionsPerIP <= 0 {
		c.MaxSessionsPerIP = 20
	}
	if c.ProposeTimeout <= 0 {
		c.ProposeTimeout = 30 * time.Second
	}
	if c.CheckTimeout <= 0 {
		c.CheckTimeout = 30 * time.Second
	}
	if c.ConnCheckTimeout <= 0 {
		c.ConnCheckTimeout = DefaultConnCheckTimeout
	}
	if c.MaxSessionDuration == 0 {
		c.MaxSessionDuration = DefaultMaxSessionDuration
	}
	if c.MaxTransactions == 0 {
		c.MaxTransactions = DefaultMaxTransactions
	}
	if c.MaxSendPerHour == 0 {
		c.MaxSendPerHour = DefaultMaxSendPerHour
	}
	if c.MaxQueuedBytesPerUser == 0 {
		c.MaxQueuedBytesPerUser = DefaultMaxQueuedBytesPerUser
	}
	if c.MaxMailboxes == 0 {
		c.MaxMailboxes = defaultMaxMailboxes
	}
	if c.MaxMailboxDepth == 0 {
		c.MaxMailboxDepth = defaultMaxMailboxDepth
	}
	if c.Login == nil {
		var err error
		if c.Login, err = login.New(login.Config{Directory: c.Directory, IsNotFound: c.IsNotFound}); err != nil {
			return fmt.Errorf("smtp: %w", err)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	domains := make([]string, 0, len(c.LocalDomains))
	for _, d := range c.LocalDomains {
		domains = append(domains, strings.ToLower(strings.TrimSuffix(d, ".")))
	}
	c.LocalDomains = domains
	if c.Postmaster == "" && len(domains) > 0 {
		c.Postmaster = "postmaster@" + domains[0]
	}
	return nil
}

// Server serves one SMTP listener.
type Server struct {
	// base is the context of every session; cancelled when the server
	// stops (Close, or Shutdown once its grace is over).
	base   context.Context
	stop   context.CancelFunc
	cfg    Config
	log    *slog.Logger
	smtp   *gosmtp.Server
	limits *connlimit.Limiter[*limitedConn]
}

// Sessions is the number of open sessions.
func (s *Server) Sessions() int { return s.limits.Open() }

// Kind is the listener the server serves.
func (s *Server) Kind() Kind { return s.cfg.Kind }

// New validates cfg and builds a Server; Serve starts it.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	base, stop := context.WithCancel(context.Background())
	s := &Server{
		base:   base,
		stop:   stop,
		cfg:    cfg,
		log:    cfg.Logger.With("listener", cfg.Kind.String()),
		limits: connlimit.New[*limitedConn](cfg.MaxSessions, cfg.MaxSessionsPerIP),
	}
	gs := gosmtp.NewServer(guardedBackend{b: backend{s}, postmaster: cfg.Postmaster, log: s.log})
	gs.Domain = cfg.Hostname
	gs.MaxMessageBytes = cfg.MaxMessageSize           // RFC 1870 SIZE
	gs.MaxRecipients = cfg.MaxRecipients              // RFC 5321 §4.5.3.1.8: 452 4.5.3 past it
	gs.MaxLineLength = lineLength(cfg.MaxMessageSize) // see guard.go
	gs.ReadTimeout = cfg.ReadTimeout                  // also enforced per read by limitedConn
	gs.WriteTimeout = cfg.WriteTimeout
	gs.EnableSMTPUTF8 = true // RFC 6531: addresses and headers pass through as bytes
	gs.TLSConfig = cfg.TLS
	if cfg.Kind == Submissions {
		gs.TLSConfig = nil // already TLS: no STARTTLS (RFC 8314 §3.3)
	}
	// Submission decides itself: AuthMechanisms is empty before TLS and AUTH
	// then gets 538 5.7.11 (RFC 4954 §6) instead of go-smtp's 523.
	gs.AllowInsecureAuth = cfg.Kind.submission()
	// RFC 3461: DSN parameters are taken on submission, where the queue
	// honours them; MX delivers locally only.
	gs.EnableDSN = cfg.Kind.submission()
	// RFC 8689: REQUIRETLS, likewise, where mail is relayed; go-smtp
	// advertises it only on TLS sessions (§2).
	gs.EnableREQUIRETLS = cfg.Kind.submission()
	gs.ErrorLog = slogPrinter{s.log}
	s.smtp = gs
	return s, nil
}

// Serve accepts connections on ln until Shutdown or Close. For Submissions
// ln is a plain TCP listener: Serve adds the TLS layer.
func (s *Server) Serve(ln net.Listener) error {
	wrapped := &limitedListener{
		Listener: ln, limits: s.limits, base: s.base,
		readTimeout: s.cfg.ReadTimeout, writeTimeout: s.cfg.WriteTimeout,
		onRefuse: func(ip string) { s.log.Info("smtp session refused: too many", "remote", ip) },
		refuser:  frontend.Refuser{Line: refusal()},
	}
	wrapped.maxDuration = s.cfg.MaxSessionDuration
	var l net.Listener = wrapped
	if s.cfg.Kind == Submissions {
		wrapped.refuser.TLS = s.cfg.TLS
		l = tls.NewListener(wrapped, s.cfg.TLS)
	}
	err := s.smtp.Serve(l)
	if errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// Shutdown stops accepting, lets sessions finish until ctx ends, then cuts
// the rest off. An in-flight DATA either got its reply or gets none (the
// client retries: a message is never acknowledged uncommitted).
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	s.stop() // what still runs stops waiting for the cluster
	closeAll(s.limits)
	if errors.Is(err, gosmtp.ErrServerClosed) || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return nil
	}
	return err
}

// Close stops at once, cutting every session.
func (s *Server) Close() error {
	s.stop()
	err := s.smtp.Close()
	closeAll(s.limits)
	if errors.Is(err, gosmtp.ErrServerClosed) {
		return nil
	}
	return err
}

// isLocalDomain reports whether domain is one of ours.
func (s *Server) isLocalDomain(domain string) (bool, error) {
	for _, d := range s.cfg.LocalDomains {
		if d == domain {
			return true, nil
		}
	}
	return s.cfg.Directory.IsLocalDomain(domain)
}

// slogPrinter routes go-smtp's internal error log to slog.
type slogPrinter struct{ l *slog.Logger }

func (p slogPrinter) Printf(format string, v ...any) {
	p.l.Debug("go-smtp: " + strings.TrimSpace(fmt.Sprintf(format, v...)))
}

func (p slogPrinter) Println(v ...any) {
	p.l.Debug("go-smtp: " + strings.TrimSpace(fmt.Sprintln(v...)))
}
