package outbound

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/outbound/dane"
	"github.com/surat-mail/surat/protocols/outbound/mtasts"
	"github.com/surat-mail/surat/protocols/outbound/tlsrpt"
)

// hostPlan is how one MX host's connection must be protected, by the
// recipient domain's policies.
type hostPlan struct {
	tls tlsPolicy
	// skip, when set, rules the host out before any connection: not in
	// the domain's MTA-STS policy (enforce), or its TLSA records could
	// not be had.
	skip *Result
	// report is the TLS-RPT outcome's template for sessions with the
	// host (nil for the smarthost); a Result already set in it is a
	// failure whatever the session does (an MX host outside a testing
	// policy).
	report *tlsrpt.Outcome
}

// domainPolicy is what holds for all of a domain's MX hosts.
type domainPolicy struct {
	sts     *mtasts.Policy
	reports []tlsrpt.Outcome // the policy that could not be fetched
}

func (t *Transport) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Transport) stamp(o tlsrpt.Outcome) tlsrpt.Outcome {
	o.Time = t.now()
	return o
}

// ignorePolicies: "TLS-Required: No" without REQUIRETLS asks that the
// recipient's MTA-STS and DANE policies be disregarded (RFC 8689 §4.2.2);
// REQUIRETLS takes precedence over the header field (§4.1).
func ignorePolicies(env Envelope) bool { return env.TLSOptional && !env.RequireTLS }

// domainPolicy finds the recipient domain's MTA-STS policy (RFC 8461 §5).
func (t *Transport) domainPolicy(ctx context.Context, domain string, env Envelope) domainPolicy {
	if t.MTASTS == nil || ignorePolicies(env) {
		return domainPolicy{}
	}
	r := t.MTASTS.Lookup(ctx, domain)
	dp := domainPolicy{sts: r.Policy}
	if r.FetchErr != nil {
		// RFC 8460 §4.3.3: a published policy that could not be had.
		// Delivery goes on as without a policy (RFC 8461 §5.1).
		res := tlsrpt.STSPolicyFetch
		var invalid *mtasts.InvalidPolicyError
		var cert *tls.CertificateVerificationError
		switch {
		case errors.As(r.FetchErr, &invalid):
			res = tlsrpt.STSPolicyInvalid
		case errors.As(r.FetchErr, &cert):
			res = tlsrpt.STSWebPKIInvalid // the policy host's certificate
		}
		dp.reports = append(dp.reports, t.stamp(tlsrpt.Outcome{PolicyDomain: domain, PolicyType: tlsrpt.PolicySTS,
			Result: res, FailureReasonCode: r.FetchErr.Error()}))
	}
	return dp
}

// hostPlan decides how to reach one MX host: DANE when its TLSA records
// are secure and usable (DANE takes precedence, RFC 8461 §2), else the
// domain's MTA-STS policy, else opportunistic STARTTLS (RFC 7435). A
// REQUIRETLS message always needs TLS with a verified certificate (RFC
// 8689 §4.2.1).
func (t *Transport) hostPlan(ctx context.Context, domain string, tg target, dp domainPolicy, env Envelope) hostPlan {
	base := tlsrpt.Outcome{PolicyDomain: domain, PolicyType: tlsrpt.PolicyNotFound, ReceivingMXHostname: tg.name}
	// SNI names the MX host (RFC 7672 §8.1; RFC 8461 §4.2 verifies it).
	cfg := &tls.Config{ServerName: tg.name, MinVersion: tls.VersionTLS12, InsecureSkipVerify: true}
	webPKI := t.webPKI(tg.name)
	if ignorePolicies(env) {
		return hostPlan{tls: tlsPolicy{cfg: cfg}, report: &base}
	}
	if t.DANE != nil {
		recs, secure, err := t.DANE.LookupTLSA(ctx, dane.Name(tg.name, t.port()))
		var dnsErr *net.DNSError
		switch {
		case err != nil && !(errors.As(err, &dnsErr) && dnsErr.IsNotFound):
			// RFC 7672 §2.2: a TLSA look-up that fails (not "no such
			// record") may hide records an attacker suppressed: this host
			// is not used; the next may be, or a later attempt.
			rep := base
			rep.PolicyType, rep.Result, rep.FailureReasonCode = tlsrpt.PolicyTLSA, tlsrpt.DNSSECInvalid, err.Error()
			return hostPlan{report: &rep, skip: &Result{Class: Temporary, Status: "4.7.5",
				Reply: "4.7.5 TLSA look-up for " + tg.name + " failed: " + oneLine(err.Error())}}
		case err == nil && secure && len(recs) > 0:
			rep := base
			rep.PolicyType = tlsrpt.PolicyTLSA
			for _, r := range recs {
				rep.PolicyStrings = append(rep.PolicyStrings, r.String())
			}
			usable := dane.Usable(recs)
			if len(usable) == 0 {
				// RFC 7672 §2.2: TLSA records that are all unusable still
				// make TLS mandatory, without authentication (REQUIRETLS
				// still needs a verified certificate: the Web PKI's).
				p := tlsPolicy{cfg: cfg, require: true}
				if env.RequireTLS {
					p.check, p.enforce = webPKI, true
				}
				return hostPlan{tls: p, report: &rep}
			}
			check := func(cs tls.ConnectionState) *certError {
				// RFC 7672 §3.1: verified against the records, not the
				// Web PKI; DANE-EE ignores names and dates (§3.1.1).
				if err := dane.Verify(cs.PeerCertificates, usable, []string{tg.name}, t.now()); err != nil {
					res := tlsrpt.ValidationFailure
					if !errors.Is(err, dane.ErrNoMatch) {
						res = certResult(err)
					}
					return &certError{result: res, err: err}
				}
				return nil
			}
			return hostPlan{tls: tlsPolicy{cfg: cfg, require: true, check: check, enforce: true}, report: &rep}
		}
		// No TLSA records, or an answer not known to be secure: RFC 7672
		// §2.1.1 says to ignore it.
	}
	if p := dp.sts; p != nil {
		rep := base
		rep.PolicyType, rep.PolicyStrings, rep.MXHost = tlsrpt.PolicySTS, p.Text, p.MX
		enforce := p.Mode == mtasts.Enforce || env.RequireTLS
		if !p.Matches(tg.name) {
			rep.Result = tlsrpt.ValidationFailure
			rep.FailureReasonCode = "MX host " + tg.name + " is not in the MTA-STS policy"
			if p.Mode == mtasts.Enforce {
				// RFC 8461 §4.1, §5: an MX host the policy does not name
				// is not used; no host left is a temporary failure.
				return hostPlan{report: &rep, skip: &Result{Class: Temporary, Status: "4.7.5",
					Reply: "4.7.5 MX host " + tg.name + " is not in the MTA-STS policy of " + domain}}
			}
		}
		// RFC 8461 §4.2: STARTTLS with a certificate valid for the MX
		// host's name under the Web PKI; in testing mode a failure is
		// reported and the message goes anyway (§5).
		return hostPlan{tls: tlsPolicy{cfg: cfg, require: enforce, check: webPKI, enforce: enforce}, report: &rep}
	}
	if env.RequireTLS {
		return hostPlan{tls: tlsPolicy{cfg: cfg, require: true, check: webPKI, enforce: true}, report: &base}
	}
	// Opportunistic (RFC 3207 §4; RFC 7435 §3): STARTTLS when offered,
	// not verified, plaintext when the handshake fails.
	return hostPlan{tls: tlsPolicy{cfg: cfg}, report: &base}
}

// webPKI checks that the certificate is valid for name under the Web
// PKI (RFC 8461 §4.2; RFC 6125): Transport.RootCAs or the system roots.
func (t *Transport) webPKI(name string) func(tls.ConnectionState) *certError {
	return func(cs tls.ConnectionState) *certError {
		if len(cs.PeerCertificates) == 0 {
			return &certError{result: tlsrpt.ValidationFailure, err: errors.New("no certificate presented")}
		}
		inter := x509.NewCertPool()
		for _, c := range cs.PeerCertificates[1:] {
			inter.AddCert(c)
		}
		_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
			DNSName: name, Roots: t.RootCAs, Intermediates: inter, CurrentTime: t.now(),
		})
		if err != nil {
			return &certError{result: certResult(err), err: err}
		}
		return nil
	}
}

// sessionReport is the TLS-RPT outcome (RFC 8460 §4.3) of the first
// connection to an MX host: nil when no TLS session was attempted (no
// report template, or the host could not be reached at all).
func (t *Transport) sessionReport(plan hostPlan, ip string, conn net.Conn, out TLSOutcome, err error) *tlsrpt.Outcome {
	if plan.report == nil || plan.tls.cfg == nil {
		return nil
	}
	rep := t.stamp(*plan.report)
	rep.ReceivingIP = ip
	var te *tlsError
	var local net.Addr
	if conn != nil {
		local = conn.LocalAddr()
	} else if errors.As(err, &te) {
		local = te.local
	}
	if a, ok := local.(*net.TCPAddr); ok {
		rep.SendingMTAIP = a.IP.String()
	}
	switch {
	case errors.As(err, &te):
		if rep.Result == "" {
			rep.Result, rep.FailureReasonCode = te.result, te.msg
		}
	case err != nil:
		return nil // the host was not reached: no TLS session to report
	case rep.Result != "":
		// Failed before the session began (an MX host outside a testing
		// policy).
	case out.State == TLSPlaintext:
		rep.Result, rep.FailureReasonCode = tlsrpt.StartTLSNotSupported, out.Detail
	case out.check != nil:
		rep.Result, rep.FailureReasonCode = out.check.result, out.check.Error()
	default:
		rep.Success = true
	}
	return &rep
}

// NewMTASTS is the MTA-STS policy cache of a Transport: policies fetched
// through r, from public addresses only unless allowPrivate (as MX
// delivery itself, Transport.AllowPrivate).
func NewMTASTS(r dns.Resolver, allowPrivate bool) *mtasts.Cache {
	allow := publicAddress
	if allowPrivate {
		allow = nil
	}
	return &mtasts.Cache{Resolver: r, Fetcher: &mtasts.Fetcher{Resolver: r, AllowAddr: allow}}
}
