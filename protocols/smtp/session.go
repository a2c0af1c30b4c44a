package smtp

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/frontend"
	"github.com/surat-mail/surat/protocols/login"
)

// backend makes a session per client greeting (go-smtp calls NewSession at
// HELO/EHLO, and again after STARTTLS, RFC 3207 §4.2: all state is reset).
type backend struct{ s *Server }

func (b backend) NewSession(c *gosmtp.Conn) (gosmtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	base := &session{
		srv:    b.s,
		conn:   c,
		remote: frontend.RemoteIP(c.Conn().RemoteAddr()),
		tls:    isTLS,
	}
	base.log = b.s.log.With("remote", base.remote)
	// Every blocking call of the session takes this context: it ends
	// with the connection or the server (go-smtp makes a new session
	// after STARTTLS, on the same connection and context).
	base.ctx = b.s.base
	if lc := limitedConnOf(c.Conn()); lc != nil && lc.ctx != nil {
		base.ctx = lc.ctx
	}
	if b.s.cfg.Kind.submission() {
		return boundSession{&submissionSession{session: base}}, nil
	}
	if err := base.checkConn(); err != nil { // connchecks.go
		return nil, err
	}
	return base, nil
}

// session is one client's SMTP state; MX uses it as is, submission wraps
// it with AUTH. go-smtp calls its methods from the connection's goroutine
// only, so it needs no lock.
type session struct {
	ctx    context.Context // the connection's (see NewSession)
	srv    *Server
	conn   *gosmtp.Conn
	log    *slog.Logger
	remote string
	tls    bool
	user   string      // authenticated canonical address; "" before AUTH
	cred   *credential // what AUTH verified (revoke.go)
	// auth counts this client's failures (logins, unknown recipients)
	// on the node's login path; made at first use.
	auth         *login.Conn
	unknownRcpts int // RCPTs answered "no such user" in this session

	// The transaction (RFC 5321 §3.3), cleared by Reset.
	from      string
	utf8      bool
	local     []string          // canonical users, aliases resolved, no duplicates
	nonLocal  []string          // for the Relay (submission only)
	params    []RecipientParams // DSN parameters of nonLocal, same order
	envID     string
	ret       string
	rcptCount int // RCPT TO accepted, as given (for Received "for")
	firstRcpt string
	size      int64 // MAIL's SIZE= (RFC 1870), 0 when not given
	// rcptTo is the address each local recipient was first given as,
	// when it differs from the user (pipeline.Envelope.RcptTo); plusTag
	// the tag of a user+tag address whose domain files such mail into
	// the tag's mailbox (addressing.go).
	rcptTo, plusTag map[string]string

	// requireTLS: MAIL had REQUIRETLS (RFC 8689); it travels with each
	// relayed recipient's parameters into the queue entry.
	requireTLS bool
}

var _ gosmtp.Session = (*session)(nil)

func (s *session) Reset() {
	s.from, s.utf8 = "", false
	s.local, s.nonLocal, s.params = nil, nil, nil
	s.envID, s.ret = "", ""
	s.requireTLS = false
	s.rcptCount, s.firstRcpt = 0, ""
	s.size = 0
	s.rcptTo, s.plusTag = nil, nil
}

func (s *session) Logout() error { return nil }

// Mail starts a transaction (RFC 5321 §4.1.1.2). The SIZE parameter was
// checked by go-smtp (RFC 1870 §6.2: 552 5.3.4 at MAIL).
func (s *session) Mail(from string, opts *gosmtp.MailOptions) error {
	if err := s.checkCredentials(nil); err != nil {
		return err
	}
	if err := s.countTransaction(); err != nil { // sessionlimits.go
		return err
	}
	if s.srv.cfg.Kind.submission() {
		if s.user == "" {
			s.log.Debug("smtp refused MAIL before AUTH", "from", from)
			return errAuthRequired // RFC 4954 §6
		}
		if err := s.checkSender(from); err != nil {
			return err
		}
	}
	if s.srv.cfg.StorageLow != nil && s.srv.cfg.StorageLow() {
		// RFC 5321 §4.2.2, §4.5.3.1.10: 452 to MAIL, so that the client
		// keeps the message and tries later (or another MX) without
		// sending a body this node would refuse after reading it.
		s.log.Info("smtp MAIL refused: low disk space", "from", from)
		return errInsufficientStorage
	}
	s.Reset()
	s.from = from
	s.utf8 = opts != nil && opts.UTF8
	if opts != nil {
		s.envID, s.ret = opts.EnvelopeID, string(opts.Return)
		s.size = opts.Size
		s.requireTLS = opts.RequireTLS
	}
	return nil
}

// checkSender enforces RFC 6409 §6.1: a submission server may (we do)
// insist that the envelope sender is the authenticated user's address or
// one of its aliases.
func (s *session) checkSender(from string) error {
	if from == "" {
		// The null reverse-path (RFC 5321 §4.5.5) is for notifications
		// that must not be answered: an authenticated user's MDNs (RFC
		// 8098 §2.1) and vacation replies need it. It names nobody, so
		// it claims no one else's address.
		return nil
	}
	addr, err := canonicalAddress(from)
	if err != nil {
		s.log.Info("smtp sender refused", "from", from, "err", err)
		return errSenderNotOwned
	}
	owner, err := s.srv.cfg.Directory.ResolveAddress(addr)
	if err != nil && !s.srv.cfg.IsNotFound(err) {
		s.log.Warn("smtp directory read failed", "from", addr, "err", err)
		return errTemporary
	}
	if err != nil || owner != s.user {
		s.log.Info("smtp sender refused", "from", addr)
		return errSenderNotOwned
	}
	return nil
}

// Rcpt adds a recipient (RFC 5321 §4.1.1.3). Local recipients must exist;
// non-local ones are refused on MX (no open relay, RFC 5321 §7.1) and handed
// to the Relay on submission. go-smtp refuses past MaxRecipients itself
// (452 4.5.3).
func (s *session) Rcpt(to string, opts *gosmtp.RcptOptions) error {
	if err := s.checkCredentials(nil); err != nil {
		return err
	}
	addr, err := canonicalAddress(to)
	if err != nil {
		s.log.Info("smtp recipient refused", "rcpt", to, "err", err)
		return errBadSyntax
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	local, err := s.srv.isLocalDomain(domain)
	if err != nil {
		s.log.Warn("smtp directory read failed", "rcpt", addr, "err", err)
		return errTemporary
	}
	if !local {
		if !s.srv.cfg.Kind.submission() {
			s.log.Info("smtp relay denied", "from", s.from, "rcpt", addr)
			return errRelayDenied
		}
		if s.srv.cfg.Relay == nil {
			s.log.Info("smtp no relay for recipient", "rcpt", addr)
			return errNoRelay
		}
		if contains(s.nonLocal, addr) {
			s.noteRcpt(addr)
			return nil
		}
		if err := s.checkSendLimits(); err != nil { // sendlimits.go
			return err
		}
		s.nonLocal = append(s.nonLocal, addr)
		p := rcptParams(opts)
		p.RequireTLS = s.requireTLS
		s.params = append(s.params, p)
		s.noteRcpt(addr)
		return nil
	}
	if err := s.checkGuessing(); err != nil {
		return err
	}
	if isSRSAddress(addr) && s.srv.cfg.SRS != nil {
		orig, relayed, err := s.srsBounce(addr, opts) // addressing.go
		if relayed || err != nil {
			return err
		}
		addr = orig // a local original sender: delivered as its own RCPT
	}
	user, tag, err := s.resolveLocal(addr) // addressing.go
	if err != nil && s.srv.cfg.IsNotFound(err) && s.srv.cfg.ReadBarrier != nil {
		// Before a 550, which bounces the mail: this node may not have
		// applied the user yet (it restarted and is catching up, or the
		// user was created through another node a moment ago). Catch up
		// with the leader's commit index and look again; if that cannot
		// be done, say 4xx, so the sender retries (RFC 5321 §4.2.5).
		ctx, cancel := context.WithTimeout(s.ctx, rcptBarrierTimeout)
		berr := s.srv.cfg.ReadBarrier(ctx)
		cancel()
		if berr != nil {
			s.log.Info("smtp unknown recipient, not caught up with the cluster; temporary", "from", s.from, "rcpt", addr, "err", berr)
			return errNotCaughtUp
		}
		user, tag, err = s.resolveLocal(addr)
	}
	if err != nil {
		if s.srv.cfg.IsNotFound(err) {
			s.log.Info("smtp unknown recipient", "from", s.from, "rcpt", addr)
			return s.unknownRecipient()
		}
		s.log.Warn("smtp directory read failed", "rcpt", addr, "err", err)
		return errTemporary
	}
	if err := s.checkQuota(user); err != nil {
		return err
	}
	if !contains(s.local, user) {
		s.local = append(s.local, user)
		if addr != user {
			s.noteRcptTo(user, addr, tagAsGiven(to, tag))
		}
	}
	s.noteRcpt(addr)
	return nil
}

// rcptBarrierTimeout bounds the catch-up before an unknown recipient's
// 550 (Config.ReadBarrier).
const rcptBarrierTimeout = 5 * time.Second

// rcptParams keeps RCPT's DSN parameters for the queue (RFC 3461 §4.1,
// §4.2); go-smtp has checked their syntax.
func rcptParams(opts *gosmtp.RcptOptions) RecipientParams {
	var p RecipientParams
	if opts == nil {
		return p
	}
	for _, n := range opts.Notify {
		p.Notify = append(p.Notify, string(n))
	}
	if opts.OriginalRecipient != "" {
		p.ORCPT = string(opts.OriginalRecipientType) + ";" + opts.OriginalRecipient
	}
	return p
}

func (s *session) noteRcpt(addr string) {
	if s.rcptCount == 0 {
		s.firstRcpt = addr
	}
	s.rcptCount++
}

// Data is in deliver.go.
func (s *session) Data(r io.Reader) error {
	if err := s.checkCredentials(r); err != nil {
		return err
	}
	return s.data(r)
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// canonicalAddress is an SMTP path's address in the one canonical form
// (protocols/address.Path: UTF-8 local parts allowed, RFC 6531 §3.3), or
// 501 5.1.3.
func canonicalAddress(a string) (string, error) {
	addr, err := address.Path(a)
	if err != nil {
		return "", errBadSyntax
	}
	return addr.String(), nil
}

// newID is a short random id for the Received field and the logs.
func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return strings.ToUpper(hex.EncodeToString(b[:]))
}
