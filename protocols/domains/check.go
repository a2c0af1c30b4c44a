package domains

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"

	miekg "github.com/miekg/dns"

	"github.com/surat-mail/surat/protocols/dns"
)

// Resolver is the DNS that Check needs (protocols/dns.Resolver has it).
// A resolver that also has LookupSRV (as *net.Resolver does) or Lookup
// (protocols/dns's Client) gets the SRV records checked too; one without
// has them skipped. Check's look-ups skip protocols/dns's cache.
type Resolver interface {
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

type srvResolver interface {
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// typedResolver is protocols/dns's Client, which answers any type.
type typedResolver interface {
	Lookup(ctx context.Context, name string, qtype uint16) (dns.Answer, error)
}

// lookupSRV asks r for the SRV records at name, if it can; ok is false
// when it cannot.
func lookupSRV(ctx context.Context, r Resolver, name string) (srvs []*net.SRV, ok bool, err error) {
	switch sr := r.(type) {
	case srvResolver:
		_, srvs, err = sr.LookupSRV(ctx, "", "", name)
		return srvs, true, err
	case typedResolver:
		ans, err := sr.Lookup(ctx, name, miekg.TypeSRV)
		if err != nil {
			return nil, true, err
		}
		for _, rr := range ans.Records {
			if s, ok := rr.(*miekg.SRV); ok {
				srvs = append(srvs, &net.SRV{Target: s.Target, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
			}
		}
		return srvs, true, nil
	}
	return nil, false, nil
}

// Problem is a record that the resolver does not publish as Records
// prints it.
type Problem struct {
	Record Record
	What   string // "missing", or what is wrong
}

// String is one line: the record's name and type, then what is wrong.
func (p Problem) String() string {
	return fmt.Sprintf("%s %s: %s", p.Record.Name, p.Record.Type, p.What)
}

// Check looks each record up and returns the ones missing or wrong, in
// the order given. An SPF, DMARC, TLS-RPT or MTA-STS TXT record is
// compared as a whole (white space around ';' aside): a deliberate
// difference is reported too, for the operator to judge. A DKIM record
// must carry the same key (k= and p=). MX must name the host; a CNAME
// record is satisfied by any name resolving to the host's addresses; SRV
// records must name the host and port, and those with target "." are not
// checked (their absence harms nothing).
func Check(ctx context.Context, r Resolver, records []Record) []Problem {
	// The operator has just published them: no cached answer, not even
	// a not-found one, may hide them.
	ctx = dns.Fresh(ctx)
	var out []Problem
	for _, rec := range records {
		if what := checkOne(ctx, r, rec); what != "" {
			out = append(out, Problem{Record: rec, What: what})
		}
	}
	return out
}

func checkOne(ctx context.Context, r Resolver, rec Record) string {
	name := strings.TrimSuffix(rec.Name, ".")
	switch rec.Type {
	case "MX":
		_, want, _ := strings.Cut(rec.Data, " ")
		mxs, err := r.LookupMX(ctx, name)
		if err != nil {
			return lookupFailed(err)
		}
		var have []string
		for _, mx := range mxs {
			if sameName(mx.Host, want) {
				return ""
			}
			have = append(have, mx.Host)
		}
		if len(have) == 0 {
			return "missing"
		}
		return fmt.Sprintf("wrong: MX names %s, not %s", strings.Join(have, ", "), want)
	case "TXT":
		txts, err := r.LookupTXT(ctx, name)
		if err != nil {
			return lookupFailed(err)
		}
		return checkTXT(rec.Data, txts)
	case "CNAME":
		want, err := r.LookupHost(ctx, strings.TrimSuffix(rec.Data, "."))
		if err != nil {
			return "not checked: the host name " + rec.Data + " does not resolve: " + oneLine(err)
		}
		have, err := r.LookupHost(ctx, name)
		if err != nil {
			return lookupFailed(err)
		}
		for _, a := range have {
			if slices.Contains(want, a) {
				return ""
			}
		}
		return fmt.Sprintf("wrong: resolves to %s, not to %s (%s)", strings.Join(have, ", "), rec.Data, strings.Join(want, ", "))
	case "SRV":
		f := strings.Fields(rec.Data)
		if len(f) != 4 || f[3] == "." {
			return ""
		}
		srvs, ok, err := lookupSRV(ctx, r, name)
		if !ok {
			return ""
		}
		if err != nil {
			return lookupFailed(err)
		}
		for _, s := range srvs {
			if sameName(s.Target, f[3]) && strconv.Itoa(int(s.Port)) == f[2] {
				return ""
			}
		}
		if len(srvs) == 0 {
			return "missing"
		}
		return fmt.Sprintf("wrong: SRV names %s port %d, not %s port %s", srvs[0].Target, srvs[0].Port, f[3], f[2])
	}
	return ""
}

// checkTXT compares the published TXT records at one name with want.
func checkTXT(want string, have []string) string {
	version, _, _ := strings.Cut(want, ";")
	if strings.HasPrefix(want, "v=spf1") {
		version = "v=spf1"
	}
	version = strings.ToLower(strings.TrimSpace(version))
	var same []string
	for _, h := range have {
		if strings.HasPrefix(strings.ToLower(strings.TrimSpace(h)), version) {
			same = append(same, h)
		}
	}
	switch {
	case len(same) == 0:
		return "missing"
	case len(same) > 1 && version != "v=dkim1":
		// RFC 7208 §4.5 (SPF), RFC 7489 §6.6.3 (DMARC): more than one
		// record is an error, the same as none.
		return fmt.Sprintf("wrong: %d %s records, want exactly one", len(same), version)
	}
	if version == "v=dkim1" {
		wt := tags(want)
		for _, h := range same {
			ht := tags(h)
			if ht["p"] == wt["p"] && strings.EqualFold(cmp.Or(ht["k"], "rsa"), cmp.Or(wt["k"], "rsa")) {
				return ""
			}
		}
		return "wrong: publishes another key (p=) than Surat signs with"
	}
	if normalize(same[0]) == normalize(want) {
		return ""
	}
	return fmt.Sprintf("differs: published %q", same[0])
}

// tags parses a tag=value list (RFC 6376 §3.2), white space removed from
// values (§3.6.1: p= may be folded).
func tags(s string) map[string]string {
	out := map[string]string{}
	for part := range strings.SplitSeq(s, ";") {
		k, v, ok := strings.Cut(part, "=")
		if ok {
			out[strings.ToLower(strings.TrimSpace(k))] = strings.Join(strings.Fields(v), "")
		}
	}
	return out
}

func normalize(s string) string {
	var parts []string
	for part := range strings.SplitSeq(s, ";") {
		if p := strings.Join(strings.Fields(part), " "); p != "" {
			parts = append(parts, p)
		}
	}
	return strings.Join(parts, "; ")
}

func sameName(a, b string) bool {
	return strings.EqualFold(strings.TrimSuffix(a, "."), strings.TrimSuffix(b, "."))
}

func lookupFailed(err error) string {
	var de *net.DNSError
	if errors.As(err, &de) && de.IsNotFound {
		return "missing"
	}
	return "not checked: " + oneLine(err)
}

func oneLine(err error) string { return strings.Join(strings.Fields(err.Error()), " ") }
