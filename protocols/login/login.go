// Package login is the one login path of every protocol: SMTP AUTH, IMAP
// LOGIN and AUTHENTICATE, POP3 USER/PASS and AUTH. A protocol hands it the
// name and password the client sent and maps the typed Outcome to its own
// reply; it never looks at a password hash itself.
//
// One attempt, in order:
//  1. a banned client (Config.Bans) is refused, and its connection closed;
//  2. the name is parsed once into the canonical account address
//     (protocols/address);
//  3. protocols/ratelimit admits the attempt, after a short wait for
//     earlier failures, or refuses it at once as Locked;
//  4. a node that has not applied all the cluster committed
//     (Config.CaughtUp) first catches up: by its own apply within
//     Config.LocalCatchUp when it already holds the committed entries, else
//     by Config.ReadBarrier (one round shared by the logins waiting for
//     it); otherwise it answers Temporary: it must
//     neither call an existing user unknown nor accept a password the
//     cluster already changed;
//  5. the user is looked up; an unknown user costs a verification against
//     a fixed hash too, so timing does not reveal who exists;
//  6. the password is verified: auth.Cache first, then argon2id under a
//     bound of concurrent verifications (Config.MaxVerifying, default
//     GOMAXPROCS) with a bounded queue (Config.MaxQueued per lane). Each
//     argon2id verification holds ~19 MiB for ~20-30 ms: without the bound,
//     a flood of wrong passwords holds 19 MiB per connection at once and
//     takes the node's memory. Waiting is cancellable with the session's
//     context; a full queue answers Temporary at once, and counts against
//     the client (only), so a flood locks itself out. Clients that logged
//     in to the account before (ratelimit's trusted pairs) wait in a lane
//     of their own that is served first, so a flood does not keep the real
//     users out.
//
// A client locked out for ConnectLock (10 s) or more, or banned, is refused
// when it connects (RefuseAtConnect): IMAP and POP3 answer BYE or -ERR
// instead of the greeting, before any TLS handshake on their STARTTLS
// ports, so a guesser that reconnects costs the node next to nothing.
//
// Every lockout (at login or at connect) is reported to Config.OnLockout,
// where an automatic ban policy counts them (protocols/bans.AutoBanner).
//
// A session that logged in is bound to the credentials it used (Bind,
// revoke.go); a password change or a deletion through any node ends it,
// on every node, through WatchRevocations (IMAP, POP3) or Current (SMTP
// submission, at each transaction command).
//
// Each connection has a Conn, which counts its failures: after
// MaxFailuresPerConn (default 3, as Dovecot's login processes do) the
// Outcome says Close and the protocol ends the connection with its own
// reply. The package does no network I/O of its own and keeps no state
// beyond the limiter's and the cache's.
package login

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/ratelimit"
)

// Directory is the read side logins need (*mailbox.Store has it).
type Directory interface {
	// User returns the account of a canonical address.
	User(address string) (*evlog.UserRecord, error)
}

// Bans is a ban list consulted before anything else (a replicated one, kept
// elsewhere). Nil in Config: nobody is banned.
type Bans interface {
	Banned(ip netip.Addr, now time.Time) bool
}

// Config configures an Authenticator. Only Directory is required.
type Config struct {
	Directory Directory
	// IsNotFound reports whether a Directory error means "no such user";
	// default errors.Is(err, mailbox.ErrNotFound).
	IsNotFound func(error) bool
	// CaughtUp reports whether the node has applied everything it has
	// heard is committed (*cluster.Node has it). Nil: always.
	CaughtUp func() bool
	// ReadBarrier catches the node up with the leader's commit index
	// (*cluster.Node has it); used when CaughtUp is false. Nil: a node
	// that is not caught up answers Temporary.
	ReadBarrier func(ctx context.Context) error
	// Limiter counts failures (shared with SMTP's RCPT path); default
	// ratelimit's defaults.
	Limiter *ratelimit.Limiter
	// Bans is consulted first; nil: none.
	Bans Bans
	// Cache remembers recent successes; nil: every login verifies.
	Cache *auth.Cache
	// Verify checks a password against a stored hash; default auth.Verify.
	Verify func(hash, password string) (bool, error)
	// MaxVerifying bounds concurrent verifications; default GOMAXPROCS.
	MaxVerifying int
	// MaxQueued bounds the attempts waiting for a verification, per lane
	// (trusted clients, others); default 16 per MaxVerifying.
	MaxQueued int
	// QueueTimeout bounds the wait for a verification; default 5 s.
	QueueTimeout time.Duration
	// LocalCatchUp is how long a node that is behind first waits for its
	// own apply to reach the commit index it has heard of, before asking
	// the leader (ReadBarrier): most lags are an apply in progress, a few
	// milliseconds, and need no round trip that a loaded node or network
	// could time out. Default 250 ms.
	LocalCatchUp time.Duration
	// BarrierTimeout bounds the catch-up of ReadBarrier; default 5 s.
	BarrierTimeout time.Duration
	// MaxFailuresPerConn closes a connection after this many failed
	// attempts; default 3.
	MaxFailuresPerConn int
	// ConnectLock: a client locked for at least this long is refused
	// when it connects (RefuseAtConnect); default 10 s.
	ConnectLock time.Duration
	// OnLockout, if set, is told of every attempt refused because its
	// client is locked out (at login, or at connect by RefuseAtConnect):
	// an automatic ban policy counts them (protocols/bans.AutoBanner).
	// It must not block.
	OnLockout func(ip netip.Addr)
	// Now is the clock for bans; default time.Now.
	Now func() time.Time
	// Registerer, if set, receives the login metrics:
	// surat_login_attempts_total{result}, surat_login_verifications_running
	// and surat_login_verifications_queued.
	Registerer prometheus.Registerer
}

// Authenticator checks logins for every protocol of a node. It is safe for
// concurrent use.
type Authenticator struct {
	cfg      Config
	slots    *slots
	barriers *barriers              // nil without Config.ReadBarrier
	attempts *prometheus.CounterVec // nil without Config.Registerer
}

// New fills in cfg's defaults and returns an Authenticator.
func New(cfg Config) (*Authenticator, error) {
	if cfg.Directory == nil {
		return nil, errors.New("login: Directory is required")
	}
	if cfg.IsNotFound == nil {
		cfg.IsNotFound = func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) }
	}
	if cfg.Limiter == nil {
		cfg.Limiter = ratelimit.New(ratelimit.Config{})
	}
	if cfg.Verify == nil {
		cfg.Verify = auth.Verify
	}
	if cfg.MaxVerifying <= 0 {
		cfg.MaxVerifying = runtime.GOMAXPROCS(0)
	}
	if cfg.MaxQueued <= 0 {
		cfg.MaxQueued = 16 * cfg.MaxVerifying
	}
	if cfg.QueueTimeout <= 0 {
		cfg.QueueTimeout = 5 * time.Second
	}
	if cfg.BarrierTimeout <= 0 {
		cfg.BarrierTimeout = 5 * time.Second
	}
	if cfg.LocalCatchUp <= 0 {
		cfg.LocalCatchUp = 250 * time.Millisecond
	}
	if cfg.MaxFailuresPerConn <= 0 {
		cfg.MaxFailuresPerConn = 3
	}
	if cfg.ConnectLock <= 0 {
		cfg.ConnectLock = 10 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	a := &Authenticator{cfg: cfg, slots: newSlots(cfg.MaxVerifying, cfg.MaxQueued)}
	if cfg.ReadBarrier != nil {
		a.barriers = &barriers{fn: cfg.ReadBarrier, timeout: cfg.BarrierTimeout}
	}
	if cfg.Registerer != nil {
		if err := a.register(cfg.Registerer); err != nil {
			return nil, fmt.Errorf("login: register metrics: %w", err)
		}
	}
	return a, nil
}

func (a *Authenticator) register(r prometheus.Registerer) error {
	a.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "surat_login_attempts_total",
		Help: "Login attempts (SMTP AUTH, IMAP, POP3) by outcome: ok, wrong, unknown, temporary, locked, banned.",
	}, []string{"result"})
	for _, c := range []prometheus.Collector{
		a.attempts,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "surat_login_verifications_running",
			Help: "Password verifications running now (at most --auth-concurrency).",
		}, func() float64 { return float64(a.slots.inUse()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "surat_login_verifications_queued",
			Help: "Logins waiting for a password verification.",
		}, func() float64 { return float64(a.slots.queued()) }),
	} {
		if err := r.Register(c); err != nil {
			return err
		}
	}
	return nil
}

// Limiter is the failure limiter, for the protocols' other guessable
// commands (SMTP RCPT).
func (a *Authenticator) Limiter() *ratelimit.Limiter { return a.cfg.Limiter }

// RefuseAtConnect reports whether a new connection from remote is to be
// refused before anything else (before a TLS handshake where the protocol
// allows): the client is banned, or locked for at least ConnectLock, a
// clear attack (fail2ban would have banned it; Postfix's anvil refuses it
// at connect). A locked-out guesser that reconnects then costs the node a
// greeting, not a handshake. Shorter locks are left to Login, where a
// client the user logged in from before is exempt.
func (a *Authenticator) RefuseAtConnect(remote string) (retryAfter time.Duration, refuse bool) {
	ip, _ := netip.ParseAddr(remote)
	if a.cfg.Bans != nil && a.cfg.Bans.Banned(ip, a.cfg.Now()) {
		return 0, true
	}
	wait := a.cfg.Limiter.ClientLocked(ip)
	if wait < a.cfg.ConnectLock {
		return wait, false
	}
	if a.cfg.OnLockout != nil {
		a.cfg.OnLockout(ip)
	}
	return wait, true
}

// Verifying is the number of verifications running now (metrics, tests).
func (a *Authenticator) Verifying() int { return a.slots.inUse() }

// Result is the kind of an Outcome.
type Result int

const (
	// OK: the password is the account's.
	OK Result = iota
	// Wrong: the password is not the account's (or its stored hash is
	// unusable).
	Wrong
	// Unknown: no such account, or the name is not an address. Clients
	// must be told the same as for Wrong.
	Unknown
	// Temporary: the answer is not known now (store read error, node not
	// caught up, verifications too busy); the client may retry.
	Temporary
	// Locked: too many failures; refused without a check, RetryAfter
	// says for how long.
	Locked
	// Banned: the client is on the ban list; refuse and close.
	Banned
)

func (r Result) String() string {
	switch r {
	case OK:
		return "ok"
	case Wrong:
		return "wrong"
	case Unknown:
		return "unknown"
	case Temporary:
		return "temporary"
	case Locked:
		return "locked"
	case Banned:
		return "banned"
	}
	return fmt.Sprintf("result(%d)", int(r))
}

// Outcome is the answer to one login attempt.
type Outcome struct {
	Result Result
	// User is the canonical address tried ("" when the name was not an
	// address); on OK, the logged-in account.
	User string
	// Record is, on OK, the account as read for this check: the password
	// hash that was verified, for a session to bind itself to (a later
	// password change then shows as a different record).
	Record *evlog.UserRecord
	// RetryAfter is how long a Locked client must wait.
	RetryAfter time.Duration
	// Slowed: the attempt was delayed by earlier failures; a reply may
	// say so.
	Slowed time.Duration
	// Close: the connection has failed too often (or is banned); the
	// protocol replies and closes it.
	Close bool
	// Err is the cause of a Temporary, for logs.
	Err error
}

// RetrySeconds is RetryAfter in whole seconds, rounded up, for a reply.
func (o Outcome) RetrySeconds() int64 { return int64((o.RetryAfter + time.Second - 1) / time.Second) }

// Failed reports whether the Outcome is a refusal of the credentials
// (Wrong or Unknown), which clients see as one.
func (o Outcome) Failed() bool { return o.Result == Wrong || o.Result == Unknown }

// Errors carried by Temporary outcomes.
var (
	ErrNotCaughtUp = errors.New("login: the node has not applied all the cluster committed")
	ErrBusy        = errors.New("login: too many logins waiting for verification")
)

// Conn is one client connection's view of the login path. It is used from
// the connection's goroutine only.
type Conn struct {
	a        *Authenticator
	ip       netip.Addr
	log      *slog.Logger
	failures int
}

// NewConn starts a connection from remote (an IP address, as the sessions
// log it; anything else counts as one unknown client). log gets the
// attempts' lines, with "user" added.
func (a *Authenticator) NewConn(remote string, log *slog.Logger) *Conn {
	ip, _ := netip.ParseAddr(remote)
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Conn{a: a, ip: ip, log: log}
}

// Failures is the number of failed attempts on this connection.
func (c *Conn) Failures() int { return c.failures }

// Login checks username's password. ctx is the session's: it bounds the
// waits (limiter, catch-up, verification queue).
func (c *Conn) Login(ctx context.Context, username, password string) Outcome {
	o := c.login(ctx, username, password)
	switch o.Result {
	case Wrong, Unknown, Locked:
		c.failures++
		o.Close = c.failures >= c.a.cfg.MaxFailuresPerConn
	case Banned:
		o.Close = true
	}
	if c.a.attempts != nil {
		c.a.attempts.WithLabelValues(o.Result.String()).Inc()
	}
	attrs := []any{"user", o.User, "result", o.Result.String()}
	if o.Slowed > 0 {
		attrs = append(attrs, "delayed", o.Slowed)
	}
	// Refusals that cost nothing (locked, busy) are at debug level: a
	// flood sends thousands a second, and the failures that led to them
	// were logged already.
	switch {
	case o.Result == OK:
		c.log.Info("login", attrs...)
	case o.Result == Temporary && errors.Is(o.Err, ErrBusy):
		c.log.Debug("login not checked", append(attrs, "err", o.Err)...)
	case o.Result == Temporary:
		c.log.Warn("login not checked", append(attrs, "err", o.Err)...)
	case o.Result == Locked:
		c.log.Debug("login refused", append(attrs, "retry_after", o.RetryAfter)...)
	default:
		c.log.Info("login failed", attrs...)
	}
	return o
}

func (c *Conn) login(ctx context.Context, username, password string) Outcome {
	a := c.a
	if a.cfg.Bans != nil && a.cfg.Bans.Banned(c.ip, a.cfg.Now()) {
		return Outcome{Result: Banned}
	}
	addr, perr := address.Account(username)
	acct := addr.String()
	d, err := a.cfg.Limiter.Admit(ctx, c.ip, acct)
	if err != nil {
		return Outcome{Result: Temporary, User: acct, Err: err}
	}
	if d.Locked > 0 {
		if a.cfg.OnLockout != nil {
			a.cfg.OnLockout(c.ip)
		}
		return Outcome{Result: Locked, User: acct, RetryAfter: d.Locked}
	}
	out := Outcome{User: acct, Slowed: d.Waited}
	if perr != nil {
		// Not an address, so no account: nothing to look up or to time.
		a.cfg.Limiter.Failed(c.ip, "")
		out.Result = Unknown
		return out
	}
	if err := a.catchUp(ctx); err != nil {
		out.Result, out.Err = Temporary, err
		return out
	}
	hash := dummyHash
	u, err := a.cfg.Directory.User(acct)
	switch {
	case err == nil:
		hash = u.GetPasswordHash()
	case !a.cfg.IsNotFound(err):
		out.Result, out.Err = Temporary, fmt.Errorf("login: read user: %w", err)
		return out
	}
	ok, verr := a.verify(ctx, c.ip, acct, hash, password)
	switch {
	case errors.Is(verr, auth.ErrUnsupportedHash), errors.Is(verr, auth.ErrMalformedHash):
		// An unusable stored hash never logs in.
		c.log.Warn("login: stored password hash unusable", "user", acct, "err", verr)
		ok = false
	case errors.Is(verr, ErrBusy):
		// A full queue is the client's failure on its own key only:
		// a flood of guesses is locked out within its first second
		// instead of keeping the queue full for everyone, and no
		// account is touched (RFC 4954 §9).
		a.cfg.Limiter.ClientFailed(c.ip)
		out.Result, out.Err = Temporary, verr
		return out
	case verr != nil:
		out.Result, out.Err = Temporary, verr
		return out
	}
	switch {
	case u == nil:
		out.Result = Unknown
	case !ok:
		out.Result = Wrong
	default:
		out.Result, out.Record = OK, u
		a.cfg.Limiter.Succeeded(c.ip, acct)
		return out
	}
	a.cfg.Limiter.Failed(c.ip, acct)
	return out
}

// catchUp returns nil when the node's projections may answer a login.
func (a *Authenticator) catchUp(ctx context.Context) error {
	if a.cfg.CaughtUp == nil || a.caughtUpSoon(ctx) {
		return nil
	}
	if a.barriers == nil {
		return ErrNotCaughtUp
	}
	if err := a.barriers.wait(ctx); err != nil {
		return fmt.Errorf("%w: %w", ErrNotCaughtUp, err)
	}
	return nil
}

// caughtUpSoon reports whether the node is caught up, or becomes so within
// LocalCatchUp (or before ctx ends) by applying what it already knows is
// committed: the same state a caught-up node answers from.
func (a *Authenticator) caughtUpSoon(ctx context.Context) bool {
	if a.cfg.CaughtUp() {
		return true
	}
	deadline := time.NewTimer(a.cfg.LocalCatchUp)
	defer deadline.Stop()
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return false
		case <-deadline.C:
			return a.cfg.CaughtUp()
		case <-tick.C:
			if a.cfg.CaughtUp() {
				return true
			}
		}
	}
}

// verify checks password against hash: the cache, else a bounded
// verification.
func (a *Authenticator) verify(ctx context.Context, ip netip.Addr, acct, hash, password string) (bool, error) {
	if a.cfg.Cache != nil && a.cfg.Cache.Cached(hash, password) {
		return true, nil
	}
	ctx, cancel := context.WithTimeout(ctx, a.cfg.QueueTimeout)
	defer cancel()
	if err := a.slots.acquire(ctx, a.cfg.Limiter.Trusted(ip, acct)); err != nil {
		return false, err
	}
	ok, err := a.cfg.Verify(hash, password)
	a.slots.release()
	if ok && err == nil && a.cfg.Cache != nil {
		a.cfg.Cache.Remember(hash, password)
	}
	return ok, err
}

// ClientLocked reports how long the client must wait before it may go on
// with anything guessable (SMTP RCPT), and whether it is banned.
func (c *Conn) ClientLocked() (wait time.Duration, banned bool) {
	if c.a.cfg.Bans != nil && c.a.cfg.Bans.Banned(c.ip, c.a.cfg.Now()) {
		return 0, true
	}
	return c.a.cfg.Limiter.ClientLocked(c.ip), false
}

// ClientFailed counts a failure that names no account against the client
// (an SMTP RCPT to an unknown user: address harvesting).
func (c *Conn) ClientFailed() { c.a.cfg.Limiter.ClientFailed(c.ip) }

// dummyHash is a real argon2id hash (of a random password, with
// auth.DefaultParams), verified for unknown users.
const dummyHash = "$argon2id$v=19$m=19456,t=2,p=1$r/4B0hRSqCE6yYChrlbCyg$HcDRkIsO26Qeey8S80qYghhbCLI5MAUUFJHPlUjKgTs"
