package mailauth

import (
	"net"
	"strings"

	"github.com/emersion/go-msgauth/authres"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// authResults formats the Authentication-Results field (RFC 8601 §2.2):
// one resinfo per check, each on its own folded line, in the order spf
// (MAIL FROM, then HELO), dkim (one per signature), dmarc (one per author
// domain), arc. Values are formatted by go-msgauth/authres.
func authResults(authservID string, v *Verdict, ip net.IP) string {
	var rs []authres.Result
	spfResult := func(r SPFResult) authres.Result {
		g := &authres.GenericResult{Method: "spf", Value: authres.ResultValue(r.Result), Params: map[string]string{"reason": r.Reason}}
		if r.Scope == ScopeHELO {
			g.Params["smtp.helo"] = r.Domain
		} else {
			g.Params["smtp.mailfrom"] = r.Sender // RFC 8601 §2.7.2
		}
		return g
	}
	rs = append(rs, spfResult(v.SPF))
	if v.HELO != nil && v.SPF.Scope != ScopeHELO {
		rs = append(rs, spfResult(*v.HELO))
	}
	if len(v.DKIM) == 0 {
		rs = append(rs, &authres.GenericResult{Method: "dkim", Value: authres.ResultNone})
	}
	bs := headerB(v.DKIM)
	for i, d := range v.DKIM {
		rs = append(rs, &authres.GenericResult{Method: "dkim", Value: authres.ResultValue(d.Result), Params: map[string]string{
			"reason":   d.Reason,
			"header.d": d.Domain,     // RFC 8601 §2.7.1
			"header.i": d.Identifier, // RFC 8601 §2.7.1
			"header.s": d.Selector,   // RFC 8601 §2.7.1
			"header.a": d.Algorithm,  // RFC 8601 §2.7.1
			"header.b": bs[i],        // RFC 6008 §4
		}})
	}
	if len(v.DMARC) == 0 {
		rs = append(rs, &authres.GenericResult{Method: "dmarc", Value: authres.ResultPermError,
			Params: map[string]string{"reason": "no author domain in From"}})
	}
	for _, r := range v.DMARC {
		// The published and applied policy go in a comment, as large
		// receivers write them; an ARC or local override is said in the
		// reason (RFC 8601 §2.3 allows no registered property for it).
		value := r.Result
		if r.Policy != nil {
			comment := " (p=" + r.Policy.P
			if r.Policy.SP != "" {
				comment += " sp=" + r.Policy.SP
			}
			if r.Requested != "" {
				comment += " dis=" + r.Applied
			}
			for _, o := range r.Overrides {
				if o.Type == "local_policy" && strings.HasPrefix(o.Comment, "arc=") {
					comment += " override=arc"
				}
			}
			value += comment + ")"
		}
		reason := r.Reason
		for _, o := range r.Overrides {
			if reason == "" {
				reason = o.Type + ": " + o.Comment
			}
		}
		rs = append(rs, &authres.GenericResult{Method: "dmarc", Value: authres.ResultValue(value), Params: map[string]string{
			"reason":      reason,
			"header.from": r.From, // RFC 7489 §11.2
		}})
	}
	if v.ARC != nil && v.ARC.Chain != ARCNone {
		p := map[string]string{"reason": v.ARC.Reason}
		if ip != nil {
			p["smtp.remote-ip"] = ip.String() // RFC 8617 §10.2
		}
		value := authres.ResultValue(v.ARC.Chain)
		if v.ARC.Chain == ARCTempError {
			// RFC 8617 §4.4 knows none, pass and fail only.
			value, p["reason"] = authres.ResultFail, "temporary: "+v.ARC.Reason
		}
		rs = append(rs, &authres.GenericResult{Method: "arc", Value: value, Params: p})
	}
	f := mailheader.NewField("Authentication-Results")
	f.Add(" " + authservID)
	for _, r := range rs {
		// Formatting one result at a time gives "id; method=value params";
		// the id is cut off so each result can go on its own line (RFC
		// 5322 §2.2.3: folds at the higher-level syntactic breaks).
		one := authres.Format(authservID, []authres.Result{r})
		f.Add(";")
		f.Line("\t" + strings.TrimSpace(strings.TrimPrefix(one, authservID+"; ")))
	}
	return f.String()
}

// headerB is the header.b value of each signature: the shortest prefix of
// b= of at least 8 characters that no other signature of the message
// shares (RFC 6008 §4).
func headerB(ds []DKIMResult) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		n := 8
		for ; n < len(d.B); n++ {
			unique := true
			for j, e := range ds {
				if j != i && len(e.B) >= n && e.B[:n] == d.B[:n] {
					unique = false
					break
				}
			}
			if unique {
				break
			}
		}
		out[i] = d.B[:min(n, len(d.B))]
	}
	return out
}
