package reports

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// DMARCPolicy is the DMARC record a message was evaluated against, as
// published (RFC 7489 §6.3).
type DMARCPolicy struct {
	Domain string // where the record was found: the policy domain
	ADKIM  string // "r" or "s"; empty: "r"
	ASPF   string // "r" or "s"; empty: "r"
	P      string // none, quarantine, reject
	SP     string // empty: as P
	NP     string // DMARCbis np=; empty: not published
	FO     string
	// Pct is pct= as published; the accepting node passes 100 when the
	// record has none (RFC 7489 §6.3).
	Pct int
	RUA []string // the rua URIs as published
}

// DKIMResult is one DKIM signature's verification (RFC 7489 Appendix C
// DKIMAuthResultType).
type DKIMResult struct {
	Domain   string // d=
	Selector string // s=
	Result   string // none, pass, fail, policy, neutral, temperror, permerror
}

// SPFResult is the SPF verification (SPFAuthResultType).
type SPFResult struct {
	Domain string
	Scope  string // "mfrom" or "helo"
	Result string // none, neutral, pass, fail, softfail, temperror, permerror
}

// Override is a PolicyOverrideReason: why the disposition is not what the
// policy asks (RFC 7489 §7.2.1: forwarded, sampled_out,
// trusted_forwarder, mailing_list, local_policy, other).
type Override struct {
	Type    string
	Comment string
}

// DMARCResult is one accepted message's DMARC evaluation, as the node
// that accepted it computed it.
type DMARCResult struct {
	SourceIP     netip.Addr
	HeaderFrom   string // the RFC5322.From domain
	EnvelopeFrom string // the RFC5321.MailFrom domain (HELO's for a null path)
	Policy       DMARCPolicy
	Disposition  string // applied: none, quarantine or reject
	DKIMAligned  bool   // an aligned DKIM pass (policy_evaluated dkim)
	SPFAligned   bool   // an aligned SPF pass (policy_evaluated spf)
	Overrides    []Override
	DKIM         []DKIMResult
	SPF          SPFResult
	Date         time.Time // when the message was accepted
}

// Bounds of a recorded result (apply drops results beyond its own,
// larger, bounds).
const (
	maxText    = 255
	maxListLen = 8
)

// DMARCEvent is the DmarcRecorded event for r, to propose with the
// message's delivery; nil when the policy asks for no aggregate reports
// (no rua: RFC 7489 §7.2), so nothing need be proposed. Domains and
// results are lower-cased, text is bounded, and the policy's defaults are
// filled in (adkim, aspf r; sp as p; RFC 7489 §6.3).
func DMARCEvent(r DMARCResult) *evlog.Event {
	if len(r.Policy.RUA) == 0 {
		return nil
	}
	p := r.Policy
	pol := &evlog.DmarcPolicy{
		Domain: domain(p.Domain), Adkim: orDefault(lower(p.ADKIM), "r"), Aspf: orDefault(lower(p.ASPF), "r"),
		P: orDefault(lower(p.P), "none"), Np: lower(p.NP), Fo: text(p.FO), Pct: uint32(min(max(p.Pct, 0), 100)),
	}
	pol.Sp = orDefault(lower(p.SP), pol.P)
	for _, u := range p.RUA[:min(len(p.RUA), maxListLen)] {
		pol.Rua = append(pol.Rua, text(strings.TrimSpace(u)))
	}
	row := &evlog.DmarcRow{
		HeaderFrom: domain(r.HeaderFrom), EnvelopeFrom: domain(r.EnvelopeFrom),
		Disposition: orDefault(lower(r.Disposition), "none"),
		DkimAligned: passFail(r.DKIMAligned), SpfAligned: passFail(r.SPFAligned),
		Spf: &evlog.DmarcSpfResult{Domain: domain(r.SPF.Domain), Scope: orDefault(lower(r.SPF.Scope), "mfrom"),
			Result: orDefault(lower(r.SPF.Result), "none")},
	}
	if r.SourceIP.IsValid() {
		row.SourceIp = r.SourceIP.Unmap().WithZone("").String()
	}
	for _, o := range r.Overrides[:min(len(r.Overrides), maxListLen)] {
		row.Reasons = append(row.Reasons, &evlog.DmarcOverride{Type: lower(o.Type), Comment: text(o.Comment)})
	}
	for _, d := range r.DKIM[:min(len(r.DKIM), maxListLen)] {
		row.Dkim = append(row.Dkim, &evlog.DmarcDkimResult{Domain: domain(d.Domain), Selector: text(d.Selector),
			Result: orDefault(lower(d.Result), "none")})
	}
	return &evlog.Event{Kind: &evlog.Event_DmarcRecorded{DmarcRecorded: &evlog.DmarcRecorded{
		Policy: pol, Row: row, DateUnix: r.Date.Unix()}}}
}

// TLS-RPT result types (RFC 8460 §4.3).
const (
	ResultStartTLSNotSupported    = "starttls-not-supported"
	ResultCertificateHostMismatch = "certificate-host-mismatch"
	ResultCertificateExpired      = "certificate-expired"
	ResultCertificateNotTrusted   = "certificate-not-trusted"
	ResultValidationFailure       = "validation-failure"
	ResultTLSAInvalid             = "tlsa-invalid"
	ResultDNSSECInvalid           = "dnssec-invalid"
	ResultDANERequired            = "dane-required"
	ResultSTSPolicyFetchError     = "sts-policy-fetch-error"
	ResultSTSPolicyInvalid        = "sts-policy-invalid"
	ResultSTSWebPKIInvalid        = "sts-webpki-invalid"
)

// Policy types (RFC 8460 §4.4, policy-type).
const (
	PolicySTS      = "sts"
	PolicyTLSA     = "tlsa"
	PolicyNoPolicy = "no-policy-found"
)

// TLSFailure is what failed in one session (RFC 8460 §4.4
// failure-details, without the count).
type TLSFailure struct {
	ResultType          string // one of the Result* constants
	SendingMTAIP        string // an IP address; anything else is left out
	ReceivingMXHostname string
	ReceivingMXHelo     string
	ReceivingIP         string // an IP address; anything else is left out
	AdditionalInfo      string // a URI with more detail
	FailureReasonCode   string
}

// TLSOutcome is one outbound delivery session's TLS outcome for the
// recipient domain's policy.
type TLSOutcome struct {
	PolicyDomain  string
	PolicyType    string   // PolicySTS, PolicyTLSA or PolicyNoPolicy
	PolicyStrings []string // the STS policy's lines, or the TLSA records
	MXHosts       []string // the STS policy's mx patterns, or the MX host (TLSA)
	Success       bool
	Failure       TLSFailure // when !Success
	// RUA is the rua of the domain's _smtp._tls record (RFC 8460 §3),
	// looked up by the proposer; see ParseTLSRPTRecord.
	RUA  []string
	Date time.Time
}

// TLSEvent is the TLSResult event for o; nil when the domain publishes no
// TLS-RPT rua (RFC 8460 §3).
func TLSEvent(o TLSOutcome) *evlog.Event {
	if len(o.RUA) == 0 {
		return nil
	}
	pol := &evlog.TLSPolicy{Type: orDefault(lower(o.PolicyType), PolicyNoPolicy), Domain: domain(o.PolicyDomain)}
	for _, s := range o.PolicyStrings[:min(len(o.PolicyStrings), 32)] {
		pol.Strings = append(pol.Strings, text(s))
	}
	for _, h := range o.MXHosts[:min(len(o.MXHosts), maxListLen)] {
		pol.MxHosts = append(pol.MxHosts, domain(h))
	}
	e := &evlog.TLSResult{Policy: pol, DateUnix: o.Date.Unix()}
	for _, u := range o.RUA[:min(len(o.RUA), maxListLen)] {
		e.Rua = append(e.Rua, text(strings.TrimSpace(u)))
	}
	if !o.Success {
		f := o.Failure
		e.Failure = &evlog.TLSFailure{
			ResultType: orDefault(lower(f.ResultType), ResultValidationFailure), SendingMtaIp: ipText(f.SendingMTAIP),
			ReceivingMxHostname: domain(f.ReceivingMXHostname), ReceivingMxHelo: text(f.ReceivingMXHelo),
			ReceivingIp: ipText(f.ReceivingIP), AdditionalInformation: text(f.AdditionalInfo),
			FailureReasonCode: text(f.FailureReasonCode),
		}
	}
	return &evlog.Event{Kind: &evlog.Event_TlsResult{TlsResult: e}}
}

// TLSRPTRUA looks up domain's TLS-RPT record (_smtp._tls.DOMAIN) and
// returns its rua URIs; none when the domain publishes no record, or not
// exactly one (RFC 8460 §3: TXT records that are not TLS-RPT records are
// discarded, and a number of remaining records other than one means the
// domain does not implement TLS-RPT). A failed look-up is an error, a
// domain without the name is not.
func TLSRPTRUA(ctx context.Context, r Resolver, domain string) ([]string, error) {
	txts, err := r.LookupTXT(ctx, "_smtp._tls."+strings.TrimSuffix(domain, "."))
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reports: TLS-RPT record of %s: %w", domain, err)
	}
	var found []string
	n := 0
	for _, t := range txts {
		if strings.HasPrefix(t, "v=TLSRPTv1;") || t == "v=TLSRPTv1" {
			n++
			found = ParseTLSRPTRecord(t)
		}
	}
	if n != 1 {
		return nil, nil
	}
	return found, nil
}

// ParseTLSRPTRecord returns the rua URIs of a _smtp._tls TXT record
// (RFC 8460 §3: "v=TLSRPTv1; rua=mailto:a@example.com,https://..."), or
// none when the record is not a TLS-RPT record.
func ParseTLSRPTRecord(txt string) []string {
	fields := strings.Split(txt, ";")
	if strings.TrimSpace(fields[0]) != "v=TLSRPTv1" { // §3: the version comes first
		return nil
	}
	var out []string
	for _, f := range fields[1:] {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok || strings.TrimSpace(k) != "rua" {
			continue
		}
		for _, u := range strings.Split(v, ",") {
			if u = strings.TrimSpace(u); u != "" {
				out = append(out, u)
			}
		}
	}
	return out
}

func passFail(ok bool) string {
	if ok {
		return "pass"
	}
	return "fail"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// text bounds s and drops control characters, which apply refuses.
func text(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > maxText {
		s = strings.ToValidUTF8(s[:maxText], "")
	}
	return s
}

func lower(s string) string { return strings.ToLower(text(strings.TrimSpace(s))) }

func domain(s string) string { return strings.TrimSuffix(lower(s), ".") }

// ipText is an IP address in canonical form, or "" for anything else.
func ipText(s string) string {
	a, err := netip.ParseAddr(strings.TrimSpace(s))
	if err != nil {
		return ""
	}
	return a.Unmap().WithZone("").String()
}
