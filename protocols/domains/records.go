package domains

import (
	"errors"
	"fmt"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// TTL is the time to live Records prints: an hour, short enough that a
// mistake or a key rotation is not stuck in caches for long.
const TTL = 3600

// maxTXTString is the most one character-string of a TXT record holds
// (RFC 1035 §3.3: a length octet, then that many octets).
const maxTXTString = 255

// DefaultDMARCPolicy is the p= printed for a domain whose settings name
// none. Like mox and Stalwart, Surat publishes reject: every message it
// sends for the domain is DKIM-signed with an aligned d= and SPF names its
// hosts, so only mail that is not ours fails.
const DefaultDMARCPolicy = "reject"

// SPF is the SPF record Records prints (RFC 7208 §5.4 "mx", §5.1 "all").
// The nodes that send the domain's mail are the ones named by --hostname,
// which is what the MX record publishes, so "mx" authorizes exactly them
// (RFC 7208 §4.6.4 bounds it at ten MX names, far more than a cluster
// has); "-all" because a message from anywhere else is not the domain's.
// An operator relaying through a smarthost adds the smarthost's own
// mechanism (include:...) in front of -all.
const SPF = "v=spf1 mx -all"

// Record is one DNS record an operator publishes for a domain.
type Record struct {
	Name string // fully qualified, with the trailing dot
	Type string // MX, TXT, CNAME or SRV
	// Data is the RDATA: for TXT the text itself, unquoted (String splits
	// and quotes it); for the others in zone-file form.
	Data string
}

// String is the record as a zone-file line (RFC 1035 §5.1):
// NAME TTL IN TYPE DATA, TXT data as quoted strings of at most 255 bytes.
func (r Record) String() string {
	data := r.Data
	if r.Type == "TXT" {
		data = quoteTXT(r.Data)
	}
	return fmt.Sprintf("%s %d IN %s %s", r.Name, TTL, r.Type, data)
}

// quoteTXT splits s into character-strings of at most 255 bytes (a DKIM
// RSA key record is longer than one; RFC 6376 §3.6.2.2 joins them back)
// and quotes each, escaping '"' and '\' (RFC 1035 §5.1). A split never
// falls inside an escape: it counts the bytes of s, not of the quoting.
func quoteTXT(s string) string {
	var b strings.Builder
	for first := true; first || s != ""; first = false {
		n := min(len(s), maxTXTString)
		if !first {
			b.WriteByte(' ')
		}
		b.WriteByte('"')
		for i := 0; i < n; i++ {
			if s[i] == '"' || s[i] == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(s[i])
		}
		b.WriteByte('"')
		s = s[n:]
	}
	return b.String()
}

// Records lists every record the domain needs, for a cluster whose mail
// name (--hostname) is hostname: MX, SPF (for the domain and, RFC 7208
// §2.3, for the host name's HELO), one DKIM key record per key, DMARC,
// TLS-RPT, MTA-STS when the domain serves a policy, autoconfig and
// autodiscover names, and the RFC 6186 SRV records.
func Records(rec *evlog.DomainRecord, hostname string) ([]Record, error) {
	d := strings.TrimSuffix(rec.GetDomain(), ".")
	host := strings.ToLower(strings.TrimSuffix(hostname, "."))
	if d == "" {
		return nil, errors.New("domains: records of an unnamed domain")
	}
	if host == "" {
		return nil, errors.New("domains: records need the node's host name (--hostname)")
	}
	fq := func(name string) string { return name + "." }
	out := []Record{
		{fq(d), "MX", "10 " + fq(host)},
		{fq(d), "TXT", SPF},
		// RFC 7208 §2.3: a HELO name should have its own SPF record.
		{fq(host), "TXT", "v=spf1 a -all"},
	}
	for _, k := range rec.GetDkimKeys() {
		txt, err := KeyRecord(k)
		if err != nil {
			return nil, err
		}
		// RFC 6376 §3.6.2.1: SELECTOR._domainkey.DOMAIN.
		out = append(out, Record{fq(k.GetSelector() + "._domainkey." + d), "TXT", txt})
	}
	policy := rec.GetDmarcPolicy()
	if policy == "" {
		policy = DefaultDMARCPolicy
	}
	reports := "mailto:postmaster@" + d
	out = append(out,
		// RFC 7489 §6.1, §6.3: the policy and where aggregate reports go.
		Record{fq("_dmarc." + d), "TXT", "v=DMARC1; p=" + policy + "; rua=" + reports},
		// RFC 8460 §3: where TLS reports go.
		Record{fq("_smtp._tls." + d), "TXT", "v=TLSRPTv1; rua=" + reports},
	)
	if rec.GetMtaStsMode() != evlog.MtaStsMode_MTA_STS_MODE_OFF {
		// RFC 8461 §3.1: the policy's id changes when the policy does.
		id := time.Unix(max(rec.GetSettingsUnix(), rec.GetAddedUnix()), 0).UTC().Format("20060102150405")
		out = append(out,
			Record{fq("_mta-sts." + d), "TXT", "v=STSv1; id=" + id},
			// RFC 8461 §3.3: the policy is served at mta-sts.DOMAIN.
			Record{fq("mta-sts." + d), "CNAME", fq(host)})
	}
	out = append(out,
		// Thunderbird's autoconfig and Outlook's autodiscover look these up.
		Record{fq("autoconfig." + d), "CNAME", fq(host)},
		Record{fq("autodiscover." + d), "CNAME", fq(host)},
		// RFC 6186 §3; RFC 8314 §5.1 for submissions. Target "." says the
		// cleartext service is not offered (RFC 6186 §4), so clients use
		// the implicit-TLS one.
		Record{fq("_submissions._tcp." + d), "SRV", "0 1 465 " + fq(host)},
		Record{fq("_imaps._tcp." + d), "SRV", "0 1 993 " + fq(host)},
		Record{fq("_pop3s._tcp." + d), "SRV", "0 1 995 " + fq(host)},
		Record{fq("_submission._tcp." + d), "SRV", "0 0 0 ."},
		Record{fq("_imap._tcp." + d), "SRV", "0 0 0 ."},
		Record{fq("_pop3._tcp." + d), "SRV", "0 0 0 ."},
	)
	return out, nil
}

// Zone is the records as zone-file text, one line each (what `surat
// domain records` prints).
func Zone(records []Record) string {
	var b strings.Builder
	for _, r := range records {
		b.WriteString(r.String())
		b.WriteByte('\n')
	}
	return b.String()
}
