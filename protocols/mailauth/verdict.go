package mailauth

import (
	"net/netip"
	"strings"

	"blitiri.com.ar/go/spf"
)

// Action is what happens to a message.
type Action int

const (
	Accept   Action = iota // deliver to the recipients' INBOX
	Junk                   // deliver to the recipients' Junk
	TempFail               // refuse with a 4xx reply
	Reject                 // refuse with a 5xx reply
)

func (a Action) String() string {
	switch a {
	case Accept:
		return "accept"
	case Junk:
		return "junk"
	case TempFail:
		return "tempfail"
	case Reject:
		return "reject"
	}
	return "unknown"
}

// Reply is an SMTP reply for a refused message.
type Reply struct {
	Code     int    // 550, 451, 552
	Enhanced [3]int // RFC 3463 enhanced status code
	Text     string // without the codes
}

// Verdict is the outcome of the checks of one message.
type Verdict struct {
	// Action is the message-level action. For TempFail and Reject, Reply
	// says what to answer at the end of DATA.
	Action Action
	Reply  Reply
	// Domains is the action per recipient domain when Action is Accept or
	// Junk: Accept or Junk, each domain's report-only setting applied.
	// A message whose recipient domains disagree has Action Junk.
	Domains map[string]Action
	// Header is the Authentication-Results field to prepend, folded and
	// CRLF-terminated.
	Header string
	SPF    SPFResult  // the MAIL FROM identity (postmaster@HELO for a null path)
	HELO   *SPFResult // the HELO identity (RFC 7208 §2.3), nil when not checked
	DKIM   []DKIMResult
	DMARC  []DMARCResult // one per author domain
	ARC    *ARCResult    // nil when the message has no ARC set or no verifier
	// Records are the aggregate-report records, one per author domain.
	Records []Record
}

// Record is one row of a DMARC aggregate report (RFC 7489 Appendix C):
// what the reports part stores per message and author domain.
type Record struct {
	SourceIP     netip.Addr
	HeaderFrom   string   // RFC5322.From domain
	EnvelopeFrom string   // RFC5321.MailFrom domain ("" for the null path)
	EnvelopeTo   []string // recipient domains
	// Policy is the published policy (nil: none was found); its RUA says
	// where reports go.
	Policy      *Policy
	Result      string // DMARC result: pass, fail, none, temperror, permerror
	Disposition string // none, quarantine, reject: what was applied
	DKIMAligned bool   // policy_evaluated/dkim = pass
	SPFAligned  bool   // policy_evaluated/spf = pass
	Overrides   []PolicyOverride
	DKIM        []DKIMAuth
	SPF         []SPFAuth
}

// DKIMAuth is one DKIM result in a report (auth_results/dkim).
type DKIMAuth struct {
	Domain, Selector, Result string
}

// SPFAuth is one SPF result in a report (auth_results/spf).
type SPFAuth struct {
	Domain string
	Scope  SPFScope
	Result string
}

var rank = map[string]int{"none": 0, "quarantine": 1, "reject": 2}

var severity = map[Action]int{Accept: 0, Junk: 1, TempFail: 2, Reject: 3}

// decided is one rule's action with its reply.
type decided struct {
	action Action
	reply  Reply
}

func worse(a, b decided) decided {
	if severity[b.action] > severity[a.action] {
		return b
	}
	return a
}

var (
	replyDMARC = func(domain string) Reply {
		// RFC 7489 §6.6.3 / §10.3: reject after DATA, 5.7.1 (RFC 7372's
		// 5.7.26 is the alternative the contract allows).
		return Reply{550, [3]int{5, 7, 1}, "Message refused: DMARC policy of " + domain + " (RFC 7489)"}
	}
	replySPF = func(domain string) Reply {
		// RFC 7372 §3.2: 5.7.23 SPF validation failed.
		return Reply{550, [3]int{5, 7, 23}, "Message refused: SPF check of " + domain + " failed (RFC 7208)"}
	}
	replyTemp = Reply{451, [3]int{4, 4, 3}, "Authentication look-up failed temporarily, try again later"}
	replyHead = Reply{552, [3]int{5, 3, 4}, "Message header section too large"}
)

// decide turns the results into the message's action, per recipient
// domain first (report-only domains do not enforce), then message-level.
func (m *Message) decide(v *Verdict) {
	var policy decided // what the checks ask for, before report-only
	// --spf-policy reject: an SPF fail without a DKIM pass for the From
	// domain (RFC 7208 §8.4 lets the receiver reject).
	if m.c.spfPolicy == SPFPolicyReject && (v.SPF.Result == spf.Fail || v.SPF.Result == spf.TempError) {
		dkimOK := false
		for _, d := range v.DKIM {
			for _, r := range v.DMARC {
				if d.Result == "pass" && aligned(d.Domain, r.From, "r") {
					dkimOK = true
				}
			}
		}
		if !dkimOK {
			if v.SPF.Result == spf.Fail {
				policy = worse(policy, decided{Reject, replySPF(v.SPF.Domain)})
			} else {
				policy = worse(policy, decided{TempFail, replyTemp})
			}
		}
	}
	for _, r := range v.DMARC {
		switch {
		case r.Result == "temperror" && r.tempMatters:
			policy = worse(policy, decided{TempFail, replyTemp})
		case r.Disposition == "reject":
			policy = worse(policy, decided{Reject, replyDMARC(r.From)})
		case r.Disposition == "quarantine":
			policy = worse(policy, decided{Junk, Reply{}})
		}
	}

	rcpts := m.env.RecipientDomains
	if len(rcpts) == 0 {
		rcpts = []string{""}
	}
	v.Domains = make(map[string]Action, len(rcpts))
	enforced, reportOnly := 0, 0
	for _, d := range rcpts {
		d = strings.ToLower(d)
		if m.c.enforce(d) {
			enforced++
			v.Domains[d] = policy.action
		} else {
			reportOnly++
			v.Domains[d] = Accept
		}
	}
	switch {
	case enforced == 0 || policy.action == Accept:
		v.Action = Accept
	case reportOnly == 0 || policy.action == TempFail:
		// A temporary refusal loses nothing for a report-only domain:
		// the message comes again.
		v.Action, v.Reply = policy.action, policy.reply
	default:
		v.Action = Junk // mixed: never refuse what a report-only domain accepts
	}
	if v.Action == TempFail || v.Action == Reject {
		for d := range v.Domains {
			v.Domains[d] = v.Action
		}
	} else {
		for d, a := range v.Domains {
			if a == Reject || a == TempFail {
				v.Domains[d] = Junk
			}
		}
	}
	if v.Action != Reject && v.Action != TempFail {
		v.Reply = Reply{}
	}
	// What was applied, for the report (RFC 7489 Appendix C disposition).
	for i := range v.DMARC {
		r := &v.DMARC[i]
		r.Applied = "none"
		switch {
		case r.Disposition == "none" || v.Action == TempFail:
		case v.Action == Reject:
			r.Applied = "reject"
		case v.Action == Junk:
			r.Applied = "quarantine"
		}
		if r.Disposition != "none" && v.Action != TempFail && rank[r.Applied] < rank[r.Disposition] {
			r.Overrides = append(r.Overrides, PolicyOverride{Type: "local_policy", Comment: "report-only recipient domain"})
		}
	}
}

// records builds the aggregate-report records.
func (m *Message) records(v *Verdict) []Record {
	var spfs []SPFAuth
	if v.SPF.Domain != "" {
		spfs = append(spfs, SPFAuth{Domain: v.SPF.Domain, Scope: v.SPF.Scope, Result: string(v.SPF.Result)})
	}
	if v.HELO != nil && v.SPF.Scope != ScopeHELO {
		spfs = append(spfs, SPFAuth{Domain: v.HELO.Domain, Scope: ScopeHELO, Result: string(v.HELO.Result)})
	}
	var dk []DKIMAuth
	for _, d := range v.DKIM {
		dk = append(dk, DKIMAuth{Domain: d.Domain, Selector: d.Selector, Result: d.Result})
	}
	envFrom := ""
	if _, d, ok := strings.Cut(m.env.MailFrom, "@"); ok {
		envFrom = strings.ToLower(d)
	}
	ip, _ := netip.AddrFromSlice(m.env.RemoteIP)
	out := make([]Record, 0, len(v.DMARC))
	for _, r := range v.DMARC {
		out = append(out, Record{
			SourceIP: ip.Unmap(), HeaderFrom: r.From, EnvelopeFrom: envFrom,
			EnvelopeTo: append([]string(nil), m.env.RecipientDomains...),
			Policy:     r.Policy, Result: r.Result, Disposition: r.Applied,
			DKIMAligned: r.DKIMAligned, SPFAligned: r.SPFAligned,
			Overrides: r.Overrides, DKIM: dk, SPF: spfs,
		})
	}
	return out
}
