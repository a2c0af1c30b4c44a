package outbound

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/netip"
	"net/textproto"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/outbound/dane"
	"github.com/surat-mail/surat/protocols/outbound/mtasts"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

// Class is what a reply means for one recipient.
type Class int

const (
	// Temporary: try again later (4xx, connection trouble, DNS trouble).
	Temporary Class = iota
	// Delivered: the next hop took responsibility (2xx after DATA).
	Delivered
	// Permanent: bounce (5xx).
	Permanent
)

func (c Class) String() string {
	switch c {
	case Delivered:
		return "delivered"
	case Permanent:
		return "permanent"
	}
	return "temporary"
}

// Result is one recipient's outcome of an attempt.
type Result struct {
	Class  Class
	Reply  string // the remote reply ("550 5.1.1 ..."), or what went wrong
	Status string // RFC 3463 enhanced status code, e.g. "5.1.1"
}

// Envelope is what one attempt sends.
type Envelope struct {
	From       string
	Recipients []Recipient
	EnvID      string
	Return     string // "FULL", "HDRS" or ""
	Body       []byte
	// RequireTLS: the sender asked REQUIRETLS (RFC 8689): every hop
	// must use TLS with a verified certificate and take REQUIRETLS on.
	RequireTLS bool
	// TLSOptional: the message says "TLS-Required: No" (RFC 8689 §3, §4.2.2):
	// the recipient domain's MTA-STS and DANE policies are not enforced.
	TLSOptional bool
}

// Recipient is one RCPT with its DSN parameters.
type Recipient struct {
	Address string
	Notify  uint32 // NOTIFY bits
	ORCPT   string
}

// Attempt is the outcome of delivering one envelope.
type Attempt struct {
	Results   map[string]Result // by recipient address
	RemoteMTA string            // host that gave the final answers, if any
	DSN       bool              // the remote host took DSN parameters (RFC 3461)
	TLS       TLSOutcome        // how the connection to RemoteMTA was protected
	// Reports are the TLS-RPT outcomes (RFC 8460) of the attempt: one per
	// TLS session tried with an MX host, one per policy that could not
	// be fetched. None for the smarthost.
	Reports []tlsrpt.Outcome
}

// Transport delivers envelopes over SMTP: to a smarthost, or by MX look-up.
type Transport struct {
	// Smarthost, when set (HOST:PORT), receives all mail.
	Smarthost string
	// Resolver answers MX and A/AAAA look-ups; nil: dns.None.
	Resolver dns.Resolver
	// Hostname is our EHLO name (RFC 5321 §4.1.1.1).
	Hostname string
	// Port is the SMTP port of MX hosts; 0: 25. Tests use another.
	Port int
	// SmarthostTLS protects the smarthost connection; the zero value,
	// TLSVerify, requires STARTTLS and a verified certificate.
	SmarthostTLS TLSMode
	// SmarthostCA, when set, is trusted for the smarthost's certificate
	// instead of the system roots (a private CA).
	SmarthostCA *x509.CertPool
	// SmarthostAuth, when set, logs in to the smarthost with AUTH PLAIN.
	SmarthostAuth *Credentials
	// AllowPrivate lets MX delivery connect to loopback, private,
	// link-local and other non-public addresses. Off, such addresses from
	// DNS are skipped: a domain whose mail hosts resolve only to them
	// would have this node deliver into its own network (or to itself).
	// The smarthost, configured by the operator, is always allowed.
	AllowPrivate bool
	// DialTimeout bounds one TCP connect; 0: 30 s.
	DialTimeout time.Duration
	// CommandTimeout bounds each reply; 0: 5 min (RFC 5321 §4.5.3.2).
	CommandTimeout time.Duration
	// DataTimeout bounds the reply after the message; 0: 10 min
	// (RFC 5321 §4.5.3.2.6).
	DataTimeout time.Duration

	// MTASTS, when set, finds recipient domains' MTA-STS policies (RFC
	// 8461) for delivery by MX; nil: none are looked for.
	MTASTS *mtasts.Cache
	// DANE, when set, looks up MX hosts' TLSA records (RFC 7672). Set it
	// only when the resolver validates DNSSEC and is trusted to say so
	// (--resolver-dnssec): an insecure answer is never used.
	DANE dane.Resolver
	// RootCAs, when set, replaces the system roots for MX hosts'
	// certificates (MTA-STS, REQUIRETLS): a private CA in tests.
	RootCAs *x509.CertPool
	// Now is the clock of certificate checks; nil: time.Now.
	Now func() time.Time
}

var errNoRoute = errors.New("no smarthost configured and DNS is disabled (--resolver none): cannot route")

// Deliver attempts env for recipients of one domain (or all, with a
// smarthost). It never returns without a result for every recipient.
func (t *Transport) Deliver(ctx context.Context, domain string, env Envelope) Attempt {
	if t.Smarthost != "" {
		if env.RequireTLS && t.SmarthostTLS != TLSVerify {
			// RFC 8689 §4.2.1: only a verified certificate will do.
			return allResults(env, requireTLSFailed("the smarthost's certificate is not verified (--smarthost-tls "+t.SmarthostTLS.String()+")"), "")
		}
		host, _, err := net.SplitHostPort(t.Smarthost)
		if err != nil {
			host = t.Smarthost
		}
		// The smarthost gets what --smarthost-tls says, and never less.
		plan := hostPlan{tls: t.smarthostPolicy()}
		return t.deliverToHosts(ctx, env, []target{{name: host, addr: t.Smarthost}}, func(target) hostPlan { return plan })
	}
	targets, res := t.route(ctx, domain)
	if res != nil {
		return allResults(env, *res, "")
	}
	dp := t.domainPolicy(ctx, domain, env)
	a := t.deliverToHosts(ctx, env, targets, func(tg target) hostPlan { return t.hostPlan(ctx, domain, tg, dp, env) })
	a.Reports = append(dp.reports, a.Reports...)
	return a
}

// target is one address of a mail host.
type target struct {
	name string // the MX host name (the domain itself for an implicit MX)
	addr string // HOST:PORT to connect to
}

func (t *Transport) port() int {
	if t.Port == 0 {
		return 25
	}
	return t.Port
}

// route resolves the domain's mail hosts as HOST:PORT in the order to try
// (RFC 5321 §5.1), or a result for every recipient when there is none.
func (t *Transport) route(ctx context.Context, domain string) ([]target, *Result) {
	r := t.Resolver
	if r == nil {
		r = dns.None{}
	}
	port := t.port()
	mxs, err := r.LookupMX(ctx, domain)
	var dnsErr *net.DNSError
	switch {
	case errors.Is(err, dns.ErrDisabled):
		return nil, &Result{Class: Temporary, Reply: errNoRoute.Error(), Status: "4.4.3"}
	case errors.As(err, &dnsErr) && dnsErr.IsNotFound:
		// No MX: the domain is its own mail host ("implicit MX", §5.1),
		// decided below by its address records.
		mxs = nil
	case err != nil:
		// RFC 3463 X.4.3: directory server failure; try later.
		return nil, &Result{Class: Temporary, Reply: "MX look-up for " + domain + " failed: " + err.Error(), Status: "4.4.3"}
	}
	// RFC 7505 §3: a single MX with the root as host: no mail accepted.
	if len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "") {
		return nil, &Result{Class: Permanent, Reply: "556 5.1.10 " + domain + " does not accept mail (null MX, RFC 7505)", Status: "5.1.10"}
	}
	var names []string
	if len(mxs) == 0 {
		names = []string{domain}
	} else {
		// RFC 5321 §5.1: lowest preference first; equal preferences in
		// random order to spread the load.
		mxs = slices.Clone(mxs)
		rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
		slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
		for _, mx := range mxs {
			if h := strings.TrimSuffix(mx.Host, "."); h != "" {
				names = append(names, h)
			}
		}
	}
	var hosts []target
	var refused []string
	var lastErr error
	for _, name := range names {
		addrs, err := r.LookupHost(ctx, name)
		if err != nil {
			lastErr = err
			continue
		}
		for _, a := range addrs {
			if !t.AllowPrivate && !publicAddress(a) {
				refused = append(refused, a)
				continue
			}
			hosts = append(hosts, target{name: name, addr: net.JoinHostPort(a, strconv.Itoa(port))})
		}
	}
	if len(hosts) == 0 && len(refused) > 0 {
		// RFC 3463 X.4.4: unable to route. Permanent: the records say
		// so, and a retry would find the same.
		return nil, &Result{Class: Permanent, Status: "5.4.4",
			Reply: "554 5.4.4 the mail hosts of " + domain + " resolve only to non-public addresses (" +
				strings.Join(refused, ", ") + "); refused without --allow-private-mx"}
	}
	if len(hosts) == 0 {
		if len(mxs) == 0 && errors.As(lastErr, &dnsErr) && dnsErr.IsNotFound {
			// Neither MX nor address: the domain does not exist as a
			// mail destination (RFC 3463 X.1.2 bad destination system).
			return nil, &Result{Class: Permanent, Reply: "550 5.1.2 domain " + domain + " has no MX and no address", Status: "5.1.2"}
		}
		reason := "no address for the mail hosts of " + domain
		if lastErr != nil {
			reason += ": " + lastErr.Error()
		}
		return nil, &Result{Class: Temporary, Reply: reason, Status: "4.4.3"}
	}
	return hosts, nil
}

func allResults(env Envelope, r Result, mta string) Attempt {
	a := Attempt{Results: map[string]Result{}, RemoteMTA: mta}
	for _, rc := range env.Recipients {
		a.Results[rc.Address] = r
	}
	return a
}

// deliverToHosts tries hosts in order until one gives per-recipient
// answers; a host that cannot be reached or fails the whole transaction
// temporarily passes the turn to the next (RFC 5321 §5.1). plan says how
// each host's connection must be protected.
func (t *Transport) deliverToHosts(ctx context.Context, env Envelope, hosts []target, plan func(target) hostPlan) Attempt {
	last := Attempt{}
	var reports []tlsrpt.Outcome
	tlsOnly := true // every host failed for want of (verified) TLS or REQUIRETLS
	for _, h := range hosts {
		if ctx.Err() != nil {
			break
		}
		p := plan(h)
		if p.skip != nil {
			// A host the recipient's policy rules out (RFC 8461 §4.1) or
			// whose TLSA records could not be had (RFC 7672 §2.2).
			last = allResults(env, *p.skip, "")
			last.TLS = TLSOutcome{State: TLSFailed, Detail: p.skip.Reply}
			if p.report != nil {
				reports = append(reports, t.stamp(*p.report))
			}
			continue
		}
		a, final := t.tryHost(ctx, h, env, p)
		reports = append(reports, a.Reports...)
		if final {
			a.Reports = reports
			return a
		}
		if a.TLS.State != TLSFailed && !requireTLSRefused(a) {
			tlsOnly = false
		}
		last = a
	}
	if last.Results == nil {
		reason := "no mail host could be tried"
		if ctx.Err() != nil {
			reason = "attempt abandoned: " + ctx.Err().Error()
		}
		a := allResults(env, Result{Class: Temporary, Reply: reason, Status: "4.4.1"}, "")
		a.Reports = reports
		return a
	}
	if env.RequireTLS && tlsOnly && ctx.Err() == nil && !requireTLSRefused(last) {
		// RFC 8689 §4.2.1: no host could take the message as REQUIRETLS
		// demands: it is returned to the sender (5.7.10).
		var why string
		for _, r := range last.Results {
			why = r.Reply
			break
		}
		tls := last.TLS
		last = allResults(env, requireTLSFailed(why), last.RemoteMTA)
		last.TLS = tls
	}
	last.Reports = reports
	return last
}

// requireTLSFailed is the permanent failure of a REQUIRETLS message
// (RFC 8689 §5, X.7.10 encryption needed).
func requireTLSFailed(why string) Result {
	return Result{Class: Permanent, Status: "5.7.10", Reply: "550 5.7.10 REQUIRETLS: " + why}
}

func requireTLSRefused(a Attempt) bool {
	for _, r := range a.Results {
		if r.Status != "5.7.10" {
			return false
		}
	}
	return len(a.Results) > 0
}

// tryHost runs one SMTP transaction. final is false when the host did not
// get as far as answering for the recipients (the next host may).
func (t *Transport) tryHost(ctx context.Context, tg target, env Envelope, plan hostPlan) (Attempt, bool) {
	hostport, policy := tg.addr, plan.tls
	host, _, _ := net.SplitHostPort(hostport)
	var reports []tlsrpt.Outcome
	fail := func(err error, out TLSOutcome) (Attempt, bool) {
		r := classify(err)
		r.Reply = fmt.Sprintf("%s (%s)", r.Reply, hostport)
		// A 5xx before RCPT (greeting, EHLO, MAIL) refuses the whole
		// message at this host: final. Anything else: try the next host.
		a := allResults(env, r, host)
		a.TLS = out
		a.Reports = reports
		return a, r.Class == Permanent
	}
	conn, out, err := t.open(ctx, hostport, policy, tg.name)
	if rep := t.sessionReport(plan, host, conn, out, err); rep != nil {
		reports = append(reports, *rep)
	}
	if errors.Is(err, errTLSFailed) && !policy.require {
		// Opportunistic (RFC 7435 §3): plaintext on a new connection,
		// and the outcome says so.
		detail := err.Error()
		conn, out, err = t.open(ctx, hostport, tlsPolicy{}, tg.name)
		out.Detail = detail
	}
	if err != nil {
		var te *tlsError
		if errors.As(err, &te) {
			out = TLSOutcome{State: TLSFailed, Detail: te.msg}
		}
		return fail(err, out)
	}
	a, final := t.transact(ctx, conn, env, host)
	a.TLS = out
	a.Reports = reports
	return a, final
}

// open connects, reads the greeting, says EHLO and upgrades with STARTTLS
// when offered and wanted. It returns a connection on which go-smtp's
// client starts afresh: the greeting it expects is replayed, and it says
// EHLO again (required after STARTTLS, RFC 3207 §4.2; allowed otherwise,
// RFC 5321 §4.1.4).
func (t *Transport) open(ctx context.Context, hostport string, policy tlsPolicy, host string) (_ net.Conn, _ TLSOutcome, err error) {
	plain := TLSOutcome{State: TLSPlaintext}
	dialTimeout := t.DialTimeout
	if dialTimeout <= 0 {
		dialTimeout = 30 * time.Second
	}
	d := net.Dialer{Timeout: dialTimeout}
	conn, err := d.DialContext(ctx, "tcp", hostport)
	if err != nil {
		return nil, TLSOutcome{}, err
	}
	local := conn.LocalAddr()
	defer func() {
		var te *tlsError
		if errors.As(err, &te) {
			te.local = local // for TLS-RPT's sending-mta-ip
		}
	}()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	_ = conn.SetDeadline(time.Now().Add(t.commandTimeout()))
	defer conn.SetDeadline(time.Time{})
	br := bufio.NewReader(conn)
	tp := textproto.NewConn(struct {
		io.Reader
		io.WriteCloser
	}{br, conn})
	code, greeting, err := tp.ReadResponse(220)
	if err != nil {
		conn.Close()
		return nil, TLSOutcome{}, protoErr(code, greeting, err)
	}
	replay := func(c net.Conn, r io.Reader) net.Conn {
		return &replayConn{Conn: c, r: io.MultiReader(strings.NewReader("220 "+firstLine(greeting)+"\r\n"), r)}
	}
	if policy.cfg == nil {
		plain.Detail = "STARTTLS not attempted (--smarthost-tls none)"
		return replay(conn, br), plain, nil
	}
	if err := tp.PrintfLine("EHLO %s", t.hostname()); err != nil {
		conn.Close()
		return nil, TLSOutcome{}, err
	}
	code, msg, err := tp.ReadResponse(250)
	if err != nil {
		conn.Close()
		return nil, TLSOutcome{}, protoErr(code, msg, err)
	}
	if !hasExtension(msg, "STARTTLS") {
		if policy.require {
			// Never downgrade silently: the message stays queued.
			conn.Close()
			return nil, TLSOutcome{}, &tlsError{status: "4.7.4", result: tlsrpt.StartTLSNotSupported,
				msg: "TLS is required, but " + host + " does not offer STARTTLS"}
		}
		plain.Detail = "STARTTLS not offered"
		return replay(conn, br), plain, nil
	}
	if err := tp.PrintfLine("STARTTLS"); err != nil {
		conn.Close()
		return nil, TLSOutcome{}, err
	}
	if code, msg, err := tp.ReadResponse(220); err != nil {
		conn.Close()
		if code >= 400 && code < 600 {
			return nil, TLSOutcome{}, &tlsError{status: "4.7.5", result: tlsrpt.StartTLSNotSupported,
				msg: fmt.Sprintf("STARTTLS refused by %s: %d %s", host, code, oneLine(msg))}
		}
		return nil, TLSOutcome{}, err
	}
	cfg := policy.cfg.Clone()
	var checkFailed *certError
	if policy.check != nil {
		// The certificate is checked here, by the recipient's policy
		// (MTA-STS, DANE), not by crypto/tls's default verification.
		cfg.InsecureSkipVerify = true
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if e := policy.check(cs); e != nil {
				checkFailed = e
				if policy.enforce {
					return e
				}
			}
			return nil
		}
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, t.commandTimeout())
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		conn.Close()
		if checkFailed != nil && policy.enforce {
			return nil, TLSOutcome{}, &tlsError{status: "4.7.5", result: checkFailed.result,
				msg: "certificate of " + host + " refused: " + oneLine(checkFailed.Error())}
		}
		return nil, TLSOutcome{}, &tlsError{status: "4.7.5", result: certResult(err),
			msg: "TLS handshake with " + host + " failed: " + oneLine(err.Error())}
	}
	out := tlsOutcome(tc.ConnectionState(), policy.verified() || policy.check != nil && checkFailed == nil)
	if checkFailed != nil {
		out.check = checkFailed
		out.Detail = "certificate not verified: " + oneLine(checkFailed.Error())
	}
	return replay(tc, tc), out, nil
}

// transact runs EHLO, MAIL, RCPT, DATA with go-smtp's client.
func (t *Transport) transact(ctx context.Context, conn net.Conn, env Envelope, host string) (Attempt, bool) {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	c := gosmtp.NewClient(conn)
	defer c.Close()
	c.CommandTimeout = t.commandTimeout()
	c.SubmissionTimeout = t.DataTimeout
	if c.SubmissionTimeout <= 0 {
		c.SubmissionTimeout = 10 * time.Minute
	}
	fail := func(err error) (Attempt, bool) {
		r := classify(err)
		if ctx.Err() != nil {
			r = Result{Class: Temporary, Reply: "attempt abandoned: " + ctx.Err().Error(), Status: "4.4.1"}
		}
		return allResults(env, r, host), r.Class == Permanent
	}
	if err := c.Hello(t.hostname()); err != nil {
		return fail(err)
	}
	if t.Smarthost != "" && t.SmarthostAuth != nil {
		if err := t.login(c, host); err != nil {
			return fail(err)
		}
	}
	dsn, _ := c.Extension("DSN")
	opts := &gosmtp.MailOptions{Size: int64(len(env.Body)), EnvelopeID: env.EnvID, Return: gosmtp.DSNReturn(env.Return)}
	if needsUTF8(env) {
		if ok, _ := c.Extension("SMTPUTF8"); !ok {
			// RFC 6531 §3.2: no downgrade; the message cannot go here.
			return allResults(env, Result{Class: Permanent, Reply: "553 5.6.7 " + host + " does not support SMTPUTF8", Status: "5.6.7"}, host), true
		}
		opts.UTF8 = true
	}
	if env.RequireTLS {
		if ok, _ := c.Extension("REQUIRETLS"); !ok {
			// RFC 8689 §4.2.1: the next hop must take the requirement on;
			// another MX host may.
			return allResults(env, requireTLSFailed(host+" does not support REQUIRETLS"), host), false
		}
		opts.RequireTLS = true // RFC 8689 §4.1: passed on
	}
	if err := c.Mail(env.From, opts); err != nil {
		return fail(err)
	}
	a := Attempt{Results: map[string]Result{}, RemoteMTA: host, DSN: dsn}
	var accepted []string
	for _, rc := range env.Recipients {
		ro := &gosmtp.RcptOptions{}
		for _, n := range notifyNames(rc.Notify) {
			ro.Notify = append(ro.Notify, gosmtp.DSNNotify(n))
		}
		if typ, addr, ok := strings.Cut(rc.ORCPT, ";"); ok {
			ro.OriginalRecipientType = gosmtp.DSNAddressType(strings.ToUpper(typ))
			ro.OriginalRecipient = addr
		}
		if err := c.Rcpt(rc.Address, ro); err != nil {
			var se *gosmtp.SMTPError
			if !errors.As(err, &se) {
				return fail(err) // the connection is gone: nothing was accepted
			}
			a.Results[rc.Address] = classify(err)
			continue
		}
		accepted = append(accepted, rc.Address)
	}
	if len(accepted) == 0 {
		_ = c.Quit()
		return a, true
	}
	w, err := c.Data()
	if err == nil {
		_, err = w.Write(env.Body)
		if err == nil {
			var resp *gosmtp.DataResponse
			resp, err = w.CloseWithResponse()
			if err == nil {
				ok := Result{Class: Delivered, Reply: "250 " + firstLine(resp.StatusText), Status: "2.0.0"}
				for _, r := range accepted {
					a.Results[r] = ok
				}
				_ = c.Quit()
				return a, true
			}
		}
	}
	var se *gosmtp.SMTPError
	if !errors.As(err, &se) && ctx.Err() != nil {
		err = fmt.Errorf("attempt abandoned: %w", ctx.Err())
	}
	r := classify(err)
	for _, rc := range accepted {
		a.Results[rc] = r
	}
	// A failure after RCPT is final for this attempt: the recipients were
	// answered by this host (and the message may even have arrived, if the
	// connection broke after the final dot: retrying risks a duplicate,
	// which RFC 5321 §6.1 prefers to a loss).
	return a, true
}

// login authenticates to the smarthost with AUTH PLAIN (RFC 4954, RFC
// 4616). Every failure is temporary, as with Postfix's default
// smtp_sasl_auth_soft_bounce: wrong credentials are the operator's to fix,
// not a reason to bounce the mail.
func (t *Transport) login(c *gosmtp.Client, host string) error {
	if ok, _ := c.Extension("AUTH"); !ok {
		return &gosmtp.SMTPError{Code: 454, EnhancedCode: gosmtp.EnhancedCode{4, 7, 0},
			Message: "credentials are configured but " + host + " does not offer AUTH"}
	}
	err := c.Auth(sasl.NewPlainClient("", t.SmarthostAuth.Username, t.SmarthostAuth.Password))
	if err == nil {
		return nil
	}
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		// RFC 4954 §6: 535 5.7.8 is a credentials problem; keep the
		// reply, make it temporary (X.7.8: authentication credentials
		// invalid).
		return &gosmtp.SMTPError{Code: 454, EnhancedCode: gosmtp.EnhancedCode{4, 7, 8},
			Message: fmt.Sprintf("AUTH PLAIN as %s refused: %d %s", t.SmarthostAuth.Username, se.Code, oneLine(se.Message))}
	}
	return fmt.Errorf("AUTH PLAIN: %w", err)
}

func (t *Transport) commandTimeout() time.Duration {
	if t.CommandTimeout > 0 {
		return t.CommandTimeout
	}
	return 5 * time.Minute
}

func (t *Transport) hostname() string {
	if t.Hostname != "" {
		return t.Hostname
	}
	return "localhost"
}

// classify maps an error from the conversation to a Result.
func classify(err error) Result {
	var te *tlsError
	if errors.As(err, &te) {
		return Result{Class: Temporary, Reply: te.status + " " + te.msg, Status: te.status}
	}
	var se *gosmtp.SMTPError
	if errors.As(err, &se) {
		status := fmt.Sprintf("%d.%d.%d", se.EnhancedCode[0], se.EnhancedCode[1], se.EnhancedCode[2])
		if se.EnhancedCode == gosmtp.NoEnhancedCode || se.EnhancedCode[0] <= 0 {
			status = fmt.Sprintf("%d.0.0", se.Code/100)
		}
		reply := fmt.Sprintf("%d %s %s", se.Code, status, oneLine(se.Message))
		switch {
		case se.Code >= 500 && se.Code < 600:
			return Result{Class: Permanent, Reply: reply, Status: status}
		case se.Code >= 200 && se.Code < 300:
			return Result{Class: Delivered, Reply: reply, Status: status}
		}
		if status[0] != '4' {
			status = "4.0.0"
		}
		return Result{Class: Temporary, Reply: reply, Status: status}
	}
	// RFC 3463 X.4.1: no answer from host; X.4.2: bad connection.
	return Result{Class: Temporary, Reply: oneLine(err.Error()), Status: "4.4.1"}
}

// protoErr turns a textproto failure at the greeting or EHLO into an
// *SMTPError when the server did answer.
func protoErr(code int, msg string, err error) error {
	var te *textproto.Error
	if errors.As(err, &te) {
		return &gosmtp.SMTPError{Code: te.Code, EnhancedCode: gosmtp.NoEnhancedCode, Message: te.Msg}
	}
	if code != 0 {
		return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.NoEnhancedCode, Message: msg}
	}
	return err
}

func hasExtension(ehlo, ext string) bool {
	for _, l := range strings.Split(ehlo, "\n")[1:] {
		if f := strings.Fields(l); len(f) > 0 && strings.EqualFold(f[0], ext) {
			return true
		}
	}
	return false
}

func needsUTF8(env Envelope) bool {
	if !isASCII(env.From) {
		return true
	}
	for _, r := range env.Recipients {
		if !isASCII(r.Address) {
			return true
		}
	}
	return false
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return strings.TrimSpace(line)
}

// oneLine folds a (multi-line) reply for the queue record and the DSN's
// Diagnostic-Code (RFC 3464 §2.3.6 is a single header field).
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// replayConn serves reads from r (a replayed greeting, then the
// connection) so that go-smtp's client can start on a connection whose
// greeting was already read.
type replayConn struct {
	net.Conn
	r io.Reader
}

func (c *replayConn) Read(p []byte) (int, error) { return c.r.Read(p) }

// cgnat is RFC 6598's shared address space, not reachable across the
// Internet either.
var cgnat = netip.MustParsePrefix("100.64.0.0/10")

// publicAddress reports whether an MX address may be connected to without
// AllowPrivate: not loopback, private (RFC 1918, RFC 4193), link-local,
// shared (RFC 6598), unspecified or multicast.
func publicAddress(s string) bool {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return false
	}
	a = a.Unmap()
	return !(a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsUnspecified() ||
		a.IsMulticast() || a.IsLinkLocalMulticast() || cgnat.Contains(a) || a.Is4() && a.As4()[0] == 0)
}
