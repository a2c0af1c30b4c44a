package mailauth

import (
	"context"
	"errors"
	"net"
	"strconv"
	"strings"

	"blitiri.com.ar/go/spf"
	"github.com/emersion/go-msgauth/dmarc"
	"golang.org/x/net/publicsuffix"
)

// Policy is a DMARC record as published (RFC 7489 §6.3, DMARCbis np= and t=).
type Policy struct {
	Domain  string   // where the record was found: the From domain or its organizational domain
	P       string   // none, quarantine, reject
	SP      string   // "" when absent
	NP      string   // DMARCbis; "" when absent
	ADKIM   string   // r or s
	ASPF    string   // r or s
	Pct     int      // 0..100; 100 when absent
	Testing bool     // DMARCbis t=y
	RUA     []string // aggregate report URIs, as published
	FO      string   // failure reporting options, as published
}

// PolicyOverride is a reason the applied disposition differs from the
// policy (RFC 7489 Appendix C, PolicyOverrideReason).
type PolicyOverride struct {
	Type    string // forwarded, sampled_out, trusted_forwarder, mailing_list, local_policy, other
	Comment string
}

// DMARCResult is the DMARC evaluation for one author domain.
type DMARCResult struct {
	From   string  // the RFC5322.From domain
	Org    string  // its organizational domain (RFC 7489 §3.2)
	Result string  // pass, fail, none, temperror, permerror
	Policy *Policy // nil when none was found
	// Requested is the policy that applies to From: p, sp or np (before
	// pct=, t= and overrides).
	Requested string
	// Disposition is what the policy asks after pct=, t= and ARC: none,
	// quarantine or reject (report-only recipient domains are applied on
	// top of it per recipient domain, see Verdict.Domains).
	Disposition string
	// Applied is what was done to the message for this domain: none,
	// quarantine or reject (the report's disposition).
	Applied     string
	DKIMAligned bool // an aligned DKIM pass (RFC 7489 §4.2)
	SPFAligned  bool // an aligned SPF pass
	Overrides   []PolicyOverride
	Reason      string
	// tempMatters: Result is temperror and a retry could turn into
	// enforcement (the record, or an aligned check, was unreachable).
	tempMatters bool
}

// orgDomain is the organizational domain (RFC 7489 §3.2): the public
// suffix plus one label, from the Public Suffix List.
func orgDomain(d string) string {
	o, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d // d is itself a public suffix (or not a name)
	}
	return o
}

// aligned reports identifier alignment (RFC 7489 §3.1): strict is equality,
// relaxed is the same organizational domain (DMARCbis §4.4.1 phrases it
// the same way).
func aligned(a, from, mode string) bool {
	a, from = strings.ToLower(strings.TrimSuffix(a, ".")), strings.ToLower(from)
	if a == "" {
		return false
	}
	if mode == "s" {
		return a == from
	}
	return orgDomain(a) == orgDomain(from)
}

var errMultipleRecords = errors.New("more than one DMARC record")

// lookupRecord fetches and parses the record at _dmarc.domain (RFC 7489
// §6.6.3 steps 1–3). (nil, nil) means no usable record.
func (c *Checker) lookupRecord(ctx context.Context, domain string) (*Policy, error) {
	txts, err := c.res.LookupTXT(ctx, "_dmarc."+domain)
	if err != nil {
		var de *net.DNSError
		if errors.As(err, &de) && de.IsNotFound {
			return nil, nil
		}
		return nil, err // temporary, or an error we cannot tell: never a "none"
	}
	var found []string
	for _, t := range txts {
		// §6.6.3 step 3: records that do not start with v=DMARC1 are discarded.
		if v, _, _ := strings.Cut(strings.TrimSpace(t), ";"); strings.ReplaceAll(v, " ", "") == "v=DMARC1" {
			found = append(found, t)
		}
	}
	switch len(found) {
	case 0:
		return nil, nil
	case 1:
	default:
		return nil, errMultipleRecords // §6.6.3 step 3: no DMARC processing
	}
	p := parsePolicy(found[0])
	if p != nil {
		p.Domain = domain
	}
	return p, nil
}

// parsePolicy parses a DMARC record with go-msgauth's parser after putting
// tag names and keyword values in lower case (RFC 7489 §6.4: ABNF strings
// are case-insensitive), and adds DMARCbis' np= and t=. A record whose p=
// or sp= is invalid counts as p=none when it has a rua= (§6.6.3 step 6),
// and as no record otherwise.
func parsePolicy(txt string) *Policy {
	tags := map[string]string{}
	var parts []string
	for _, spec := range strings.Split(txt, ";") {
		k, v, ok := strings.Cut(spec, "=")
		if !ok {
			continue
		}
		k, v = strings.ToLower(strings.TrimSpace(k)), strings.TrimSpace(v)
		switch k {
		case "p", "sp", "np", "adkim", "aspf", "t":
			v = strings.ToLower(v)
		}
		if _, dup := tags[k]; dup {
			continue
		}
		tags[k] = v
		if k != "v" {
			parts = append(parts, k+"="+v)
		}
	}
	rec, err := dmarc.Parse("v=DMARC1; " + strings.Join(parts, "; "))
	if err != nil {
		if tags["rua"] == "" {
			return nil
		}
		// Keep what can be kept: p=none, and the report address.
		rec = &dmarc.Record{Policy: dmarc.PolicyNone, DKIMAlignment: dmarc.AlignmentRelaxed,
			SPFAlignment: dmarc.AlignmentRelaxed, ReportURIAggregate: splitURIs(tags["rua"])}
	}
	p := &Policy{
		P:     string(rec.Policy),
		SP:    string(rec.SubdomainPolicy),
		ADKIM: string(rec.DKIMAlignment),
		ASPF:  string(rec.SPFAlignment),
		Pct:   100,
		RUA:   rec.ReportURIAggregate,
		FO:    tags["fo"],
	}
	if rec.Percent != nil {
		p.Pct = *rec.Percent
	}
	switch np := tags["np"]; np {
	case "none", "quarantine", "reject":
		p.NP = np
	}
	p.Testing = tags["t"] == "y"
	return p
}

func splitURIs(s string) []string {
	var out []string
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			out = append(out, u)
		}
	}
	return out
}

// policyLookup is the record discovery for one author domain, started as
// soon as the header section is read.
type policyLookup struct {
	domain string
	done   chan struct{}
	policy *Policy
	err    error
}

// discover finds the policy for the author domain (RFC 7489 §6.6.3): the
// record at the domain, else at its organizational domain. (DMARCbis walks
// the tree instead; see the package doc.)
func (c *Checker) discover(ctx context.Context, l *policyLookup) {
	defer close(l.done)
	p, err := c.lookupRecord(ctx, l.domain)
	if err != nil || p != nil {
		l.policy, l.err = p, err
		return
	}
	if org := orgDomain(l.domain); org != l.domain {
		l.policy, l.err = c.lookupRecord(ctx, org)
	}
}

// exists reports whether the domain exists for np= (DMARCbis: a domain
// with no A, AAAA or MX record does not). On a temporary error the domain
// is taken to exist, so that sp= applies.
func (c *Checker) exists(ctx context.Context, domain string) bool {
	notFound := func(err error) bool {
		var de *net.DNSError
		return errors.As(err, &de) && de.IsNotFound
	}
	if addrs, err := c.res.LookupHost(ctx, domain); err == nil && len(addrs) > 0 || err != nil && !notFound(err) {
		return true
	}
	if mx, err := c.res.LookupMX(ctx, domain); err == nil && len(mx) > 0 || err != nil && !notFound(err) {
		return true
	}
	return false
}

// evaluate computes the DMARC result for one author domain from its
// looked-up policy and the SPF and DKIM results (RFC 7489 §6.6.2–§6.6.4).
func (c *Checker) evaluate(ctx context.Context, l *policyLookup, mfrom SPFResult, dkims []DKIMResult, arc *ARCResult) DMARCResult {
	r := DMARCResult{From: l.domain, Org: orgDomain(l.domain), Disposition: "none"}
	if l.err != nil {
		if errors.Is(l.err, errMultipleRecords) {
			r.Result, r.Reason = "none", "more than one DMARC record"
			return r
		}
		r.Result, r.Reason = "temperror", "DMARC record look-up failed temporarily"
		// Only a strictly aligned pass can stand whatever the record says.
		if mfrom.Result == spf.Pass && aligned(mfrom.Domain, l.domain, "s") {
			r.Result, r.SPFAligned, r.Reason = "pass", true, ""
			return r
		}
		for _, d := range dkims {
			if d.Result == "pass" && aligned(d.Domain, l.domain, "s") {
				r.Result, r.DKIMAligned, r.Reason = "pass", true, ""
				return r
			}
		}
		r.tempMatters = true
		return r
	}
	p := l.policy
	r.Policy = p
	if p == nil {
		r.Result = "none"
		return r
	}
	// RFC 7489 §4.2: pass when either an aligned SPF pass or an aligned
	// DKIM pass exists.
	tempAligned := false
	if mfrom.Result == spf.Pass && aligned(mfrom.Domain, l.domain, p.ASPF) {
		r.SPFAligned = true
	} else if mfrom.Result == spf.TempError && aligned(mfrom.Domain, l.domain, p.ASPF) {
		tempAligned = true
	}
	for _, d := range dkims {
		if !aligned(d.Domain, l.domain, p.ADKIM) {
			continue
		}
		if d.Result == "pass" {
			r.DKIMAligned = true
		} else if d.Result == "temperror" {
			tempAligned = true
		}
	}
	if r.SPFAligned || r.DKIMAligned {
		r.Result = "pass"
		return r
	}

	// §6.6.3 step 6 and DMARCbis: which policy applies to this domain.
	r.Requested = p.P
	if p.Domain != l.domain {
		switch {
		case p.NP != "" && !c.exists(ctx, l.domain):
			r.Requested = p.NP
		case p.SP != "":
			r.Requested = p.SP
		}
	}
	r.Result = "fail"
	disp := r.Requested
	// §6.6.4: pct= sampling; the messages sampled out get the next policy
	// down. DMARCbis t=y asks the same.
	if disp != "none" && p.Pct < 100 && c.sample() >= p.Pct {
		disp = lower(disp)
		r.Overrides = append(r.Overrides, PolicyOverride{Type: "sampled_out", Comment: "pct=" + strconv.Itoa(p.Pct)})
	} else if disp != "none" && p.Testing {
		disp = lower(disp)
		r.Overrides = append(r.Overrides, PolicyOverride{Type: "policy_test_mode", Comment: "t=y"})
	}
	if tempAligned {
		// A retry may pass: defer instead of acting on a failure that
		// may not be one (RFC 7489 §6.6.3: a temporary error is never a
		// reason for a permanent one).
		r.Result, r.Reason = "temperror", "an aligned check failed temporarily"
		r.tempMatters = disp != "none"
		return r
	}
	if disp != "none" {
		ok, temp, why := c.arcOverride(arc)
		switch {
		case ok:
			disp = "none"
			r.Overrides = append(r.Overrides, PolicyOverride{Type: "local_policy", Comment: why})
		case temp:
			// A trusted sealer's chain could not be checked for now: it
			// may override once it can.
			r.Result, r.Reason, r.tempMatters = "temperror", "the ARC chain could not be checked for now", true
			return r
		}
	}
	r.Disposition = disp
	return r
}

// lower is the next policy down (RFC 7489 §6.6.4).
func lower(p string) string {
	if p == "reject" {
		return "quarantine"
	}
	return "none"
}
