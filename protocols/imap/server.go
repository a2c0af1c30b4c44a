package imap

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/connlimit"
	"github.com/surat-mail/surat/protocols/frontend"
	"github.com/surat-mail/surat/protocols/imap/acl"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/propose"
)

// Store is the read side this package needs (*mailbox.Store has it). Not
// found is mailbox.ErrNotFound.
type Store interface {
	User(address string) (*evlog.UserRecord, error)
	Mailboxes(address string) ([]*evlog.MailboxRecord, error)
	MailboxByName(address, name string) (*evlog.MailboxRecord, error)
	Mailbox(id uint64) (*evlog.MailboxRecord, error)
	Subscriptions(address string) ([]string, error)
	Message(mailboxID uint64, uid uint32) (*evlog.MessageRecord, error)
	Messages(mailboxID uint64, fn func(uid uint32, m *evlog.MessageRecord) bool) error
	Blob(hash []byte) ([]byte, error)
	BlobReader(hash []byte) (io.ReadCloser, error)
	BlobPrefix(hash []byte, stop func(prefix []byte) bool) ([]byte, bool, error)
	BlobPrefixes(hashes [][]byte, stop func(prefix []byte) bool, fn func(i int, prefix []byte, complete bool, err error)) error
	MailboxSnapshot(id uint64, fn func(uid uint32, m *evlog.MessageRecord)) (*evlog.MailboxRecord, error)
	Bodies(hashes [][]byte, fn func(i int, body []byte, err error)) error
	Subscribe(address string) *mailbox.Subscription
	// AppliedIndex is the last log index applied here (revoke.go).
	AppliedIndex() uint64
	// Shared folders and annotations (shared.go, cmd_acl.go,
	// cmd_metadata.go).
	ACL(mailboxID uint64) (owner string, entries []acl.Entry, err error)
	Rights(user string, mailboxID uint64) (acl.Rights, error)
	SharedWith(user string) ([]mailbox.SharedMailbox, error)
	SharedMailboxByName(user, owner, name string) (mailbox.SharedMailbox, error)
	// PublicFolders is the account whose mailboxes are a domain's public
	// folders, "" for none (public.go).
	PublicFolders(domain string) (string, error)
	Metadata(user string, mailboxID uint64, names []string, depth mailbox.MetadataDepth) ([]mailbox.MetadataEntry, error)
}

var _ Store = (*mailbox.Store)(nil)

// Proposer commits events (*cluster.Node has it).
type Proposer = propose.Proposer

// Config configures a Server. One Server serves the STARTTLS listener
// (Serve) and the implicit-TLS one (ServeTLS).
type Config struct {
	Hostname string      // greeting; required
	TLS      *tls.Config // STARTTLS and implicit TLS; required
	Store    Store       // required
	Proposer Proposer    // required
	Logger   *slog.Logger

	// AppendLimit is the largest message APPEND takes (RFC 7889
	// APPENDLIMIT); a larger literal is refused before it is read. Default
	// 25 MiB, like SMTP's --max-message-size.
	AppendLimit uint32
	// IdleTimeout caps how long a connection may stay silent: 30 s
	// before login and 35 min after (RFC 9051 §5.4: at least 30 min)
	// otherwise; a smaller value here lowers both. Zero: those.
	IdleTimeout time.Duration
	// MaxSessions and MaxSessionsPerIP bound open connections; defaults
	// 10,000 and 100.
	MaxSessions      int
	MaxSessionsPerIP int
	// ProposeTimeout bounds one write through the cluster; default 30 s.
	ProposeTimeout time.Duration
	// MaxMailboxes bounds the mailboxes a user may own and MaxMailboxDepth
	// the hierarchy levels of a name (mailboxlimits.go); CREATE and RENAME
	// past them get NO [LIMIT]. Defaults 1,000 and 16; negative: none.
	MaxMailboxes    int
	MaxMailboxDepth int
	// Login is the node's one login path, shared with SMTP and POP3 (it
	// checks that the node is caught up, bounds verifications, limits
	// guessing). Nil: a private one over Store with protocols/login's
	// defaults.
	Login *login.Authenticator
	// Now is the clock for internal dates and UIDVALIDITY hints.
	Now func() time.Time
	// HeaderCacheSize bounds the node's cache of message header blocks
	// (headercache.go), shared by every session; default 64 MiB.
	HeaderCacheSize int64
	// SpamLearner, if set, trains the spam classifier from what users
	// move, copy and append into and out of Junk (spamtrain.go).
	SpamLearner SpamLearner
	// WarmMessages bounds the snapshots kept of mailboxes no session has
	// selected any more (hub.go), counted in messages over all of them;
	// default 200,000 (roughly 50 MiB). Negative: keep none.
	WarmMessages int
	// notifyQueue bounds the changes a NOTIFY session may have waiting
	// (notify.go); zero: defaultNotifyQueue. Tests lower it.
	notifyQueue int
}

func (c *Config) setDefaults() error {
	switch {
	case c.Hostname == "":
		return errors.New("imap: Hostname is required")
	case c.TLS == nil:
		return errors.New("imap: TLS configuration is required")
	case c.Store == nil || c.Proposer == nil:
		return errors.New("imap: Store and Proposer are required")
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.AppendLimit == 0 {
		c.AppendLimit = 25 << 20
	}
	if c.WarmMessages == 0 {
		c.WarmMessages = defaultWarmMessages
	}
	if c.HeaderCacheSize <= 0 {
		c.HeaderCacheSize = defaultHeaderCacheSize
	}
	if c.MaxSessions <= 0 {
		c.MaxSessions = 10_000
	}
	if c.MaxSessionsPerIP <= 0 {
		c.MaxSessionsPerIP = 100
	}
	if c.ProposeTimeout <= 0 {
		c.ProposeTimeout = 30 * time.Second
	}
	if c.MaxMailboxes == 0 {
		c.MaxMailboxes = DefaultMaxMailboxes
	}
	if c.MaxMailboxDepth == 0 {
		c.MaxMailboxDepth = DefaultMaxMailboxDepth
	}
	if c.Login == nil {
		var err error
		if c.Login, err = login.New(login.Config{Directory: c.Store}); err != nil {
			return fmt.Errorf("imap: %w", err)
		}
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Server serves IMAP on any number of listeners.
type Server struct {
	cfg     Config
	log     *slog.Logger
	hub     *hub
	revoker *revoker
	headers *headerCache // shared by all sessions
	limits  *connlimit.Limiter[*limitedConn]

	// ctx is the parent of every session's context; Close cancels it, so
	// no proposal or login outlives the server.
	ctx    context.Context
	cancel context.CancelFunc

	mu        sync.Mutex
	sessions  map[*session]struct{}
	listeners map[net.Listener]struct{}
	closed    bool
	conns     sync.WaitGroup // connection goroutines
	panics    atomic.Int64   // recovered panics (tests assert none)

	// deflaters are the compressors of COMPRESS sessions, lent for a batch
	// of responses at a time (cmd_compress.go).
	deflaters sync.Pool
}

// Sessions is the number of open sessions, on every listener.
func (s *Server) Sessions() int { return s.limits.Open() }

// New validates cfg and builds a Server; Serve and ServeTLS start it.
func New(cfg Config) (*Server, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:       cfg,
		log:       cfg.Logger.With("proto", "imap"),
		limits:    connlimit.New[*limitedConn](cfg.MaxSessions, cfg.MaxSessionsPerIP),
		headers:   newHeaderCache(cfg.HeaderCacheSize),
		sessions:  map[*session]struct{}{},
		listeners: map[net.Listener]struct{}{},
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.hub = newHub(cfg.Store, s.log, cfg.WarmMessages)
	s.revoker = newRevoker(s)
	return s, nil
}

// Serve accepts plain connections on ln, offering STARTTLS; LOGIN and
// AUTHENTICATE are refused before TLS (RFC 9051 §6.2.3, RFC 8314 §3).
func (s *Server) Serve(ln net.Listener) error {
	return s.serve(&limitedListener{Listener: ln, srv: s, refuser: frontend.Refuser{Line: refusal}})
}

// ServeTLS accepts implicit-TLS connections on the plain TCP listener ln
// (RFC 8314 §3.2, port 993). The TLS layer is the outermost one: a
// session knows it has TLS by conn.(*tls.Conn).
func (s *Server) ServeTLS(ln net.Listener) error {
	return s.serve(tls.NewListener(&limitedListener{Listener: ln, srv: s, refuser: frontend.Refuser{Line: refusal, TLS: s.cfg.TLS}}, s.cfg.TLS))
}

// Shutdown stops accepting and says BYE to every session (RFC 9051
// §7.1.5): at once to those waiting for a command or in IDLE, after its
// command to a busy one. It waits for them until ctx ends, then closes
// everything. A command in flight either got its tagged reply or gets
// none: its wait for the cluster ends with its session (at the latest
// when Close cancels the sessions' contexts); an unanswered write may or
// may not have been committed, which IMAP clients handle by
// resynchronising.
func (s *Server) Shutdown(ctx context.Context) error {
	s.stopAccepting()
	for _, sess := range s.liveSessions() {
		sess.requestBye("Server shutting down")
	}
	done := make(chan struct{})
	go func() { s.conns.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
	return s.Close()
}

// stopAccepting closes the listeners; Serve returns.
func (s *Server) stopAccepting() {
	s.mu.Lock()
	s.closed = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.mu.Unlock()
}

// Close stops at once, cutting every session, and waits for their
// goroutines.
func (s *Server) Close() error {
	s.stopAccepting()
	s.cancel() // every session's proposals and logins give up
	for _, c := range s.limits.Conns() {
		c.Close()
	}
	for _, sess := range s.liveSessions() {
		sess.base.Close() // a connection not from limitedListener
	}
	s.conns.Wait()
	s.hub.close()
	s.revoker.close()
	return nil
}

func (s *Server) forget(sess *session) {
	s.mu.Lock()
	delete(s.sessions, sess)
	s.mu.Unlock()
}

// propose submits events through the cluster and waits until they are
// committed and applied here (docs/DESIGN.md invariant 1), or until the
// session ends: its client goes away (watched meanwhile, limits.go), it is
// closed, or the server shuts down. A wait given up may still commit,
// as with any unanswered write.
func (s *session) propose(events ...*evlog.Event) (*evlog.Outcome, error) {
	ctx, cancel := context.WithTimeout(s.ctx, s.srv.cfg.ProposeTimeout)
	defer cancel()
	defer s.watchClient()()
	return propose.Submit(ctx, s.srv.cfg.Proposer, events...)
}

// watchClient ends the session's context if the client goes away before
// the returned stop is called. Only for waits after the command was read
// in full: nothing else may read the connection meanwhile (limits.go).
func (s *session) watchClient() (stop func()) {
	if c := connOf(s.conn); c != nil {
		return c.watchClose(s.cancel)
	}
	return func() {}
}
