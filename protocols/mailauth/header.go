package mailauth

import (
	"bytes"
	"net/mail"
	"strings"

	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/mailheader"
)

// field is one header field of the header section (RFC 5322 §2.2).
type field struct {
	name  string // as written, without surrounding white space
	value string // unfolded: CRLFs of folding removed, trimmed
	size  int    // raw length, folding included
	lines int    // raw lines
}

// headerEnd returns the length of the header section in b including the
// empty line that ends it (CRLF CRLF, or LF LF as a lenient reader sees
// it), or -1 when b holds no complete header section yet. from is where a
// previous search stopped; it must be at a line start.
func headerEnd(b []byte, from int) (end, next int) {
	i := from
	for i < len(b) {
		// i is at the start of a line.
		switch {
		case b[i] == '\n':
			return i + 1, i + 1
		case b[i] == '\r' && i+1 < len(b) && b[i+1] == '\n':
			return i + 2, i + 2
		case b[i] == '\r' && i+1 == len(b):
			return -1, i // the line may be the empty one: look again
		}
		nl := bytes.IndexByte(b[i:], '\n')
		if nl < 0 {
			return -1, i
		}
		i += nl + 1
	}
	return -1, i
}

// parseFields splits a header section into fields. Continuation lines
// (starting with SP or HTAB) belong to the field before.
func parseFields(h []byte) []field {
	var out []field
	var cur []byte
	lines := 0
	flush := func() {
		if cur == nil {
			return
		}
		// A line without a colon is kept as a field with no value, as
		// go-msgauth's reader does, so that both count DKIM-Signature
		// fields alike.
		name, value, _ := bytes.Cut(cur, []byte(":"))
		out = append(out, field{
			name:  strings.TrimSpace(mailheader.Unfold(string(name))),
			value: strings.TrimSpace(mailheader.Unfold(string(value))),
			size:  len(cur),
			lines: lines,
		})
		cur, lines = nil, 0
	}
	for len(h) > 0 {
		line := h
		if nl := bytes.IndexByte(h, '\n'); nl >= 0 {
			line, h = h[:nl+1], h[nl+1:]
		} else {
			h = nil
		}
		trimmed := bytes.TrimRight(line, "\r\n")
		if len(trimmed) == 0 {
			break // the empty line ending the header section
		}
		if (trimmed[0] == ' ' || trimmed[0] == '\t') && cur != nil {
			cur = append(cur, line...)
			lines++
			continue
		}
		flush()
		cur = append([]byte(nil), line...)
		lines = 1
	}
	flush()
	return out
}

// authorDomains returns the distinct domains of the addresses in the From
// fields (RFC 5322 §3.6.2), canonical. RFC 7489 §6.6.1 lets a receiver
// apply DMARC to every author domain when there are several; Surat does,
// and the strictest outcome wins, so that a second From cannot hide a
// forged one. A From that net/mail cannot parse falls back to every
// "@domain" in it, for the same reason. ok is false when there is no
// From field or no domain in it.
func authorDomains(fields []field) (domains []string, ok bool) {
	seen := map[string]bool{}
	add := func(d string) {
		cd, err := address.Domain(d)
		if err != nil || seen[cd] {
			return
		}
		seen[cd] = true
		domains = append(domains, cd)
	}
	for _, f := range fields {
		if !strings.EqualFold(f.name, "From") {
			continue
		}
		list, err := mail.ParseAddressList(f.value)
		if err == nil {
			for _, a := range list {
				if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
					add(a.Address[at+1:])
				}
			}
			continue
		}
		for _, part := range strings.Split(f.value, "@")[1:] {
			end := strings.IndexFunc(part, func(r rune) bool {
				return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.' || r >= 0x80)
			})
			if end < 0 {
				end = len(part)
			}
			add(part[:end])
		}
	}
	return domains, len(domains) > 0
}

// sigTags are the tags of a DKIM-Signature the verdict reports: go-msgauth
// returns only d= and i= for each signature.
type sigTags struct {
	domain, selector, algorithm, identifier, b string
}

// dkimSignatures returns the tags of each DKIM-Signature field, in header
// order (the order go-msgauth returns its verifications in).
func dkimSignatures(fields []field) []sigTags {
	var out []sigTags
	for _, f := range fields {
		if !strings.EqualFold(f.name, "DKIM-Signature") {
			continue
		}
		var s sigTags
		for _, spec := range strings.Split(f.value, ";") {
			k, v, ok := strings.Cut(spec, "=")
			if !ok {
				continue
			}
			v = strings.Join(strings.Fields(v), "") // FWS is not part of these values
			switch strings.TrimSpace(k) {
			case "d":
				s.domain = strings.ToLower(v)
			case "s":
				s.selector = v
			case "a":
				s.algorithm = strings.ToLower(v)
			case "i":
				s.identifier = v
			case "b":
				s.b = v
			}
		}
		out = append(out, s)
	}
	return out
}

// maxUnfoldCost bounds Σ lines × size over the fields of a header section
// given to go-msgauth's DKIM verifier, which unfolds a field by appending
// each line to a string: its cost grows with that product, so a 1 MiB
// field of 250,000 short lines would take minutes. No real message comes
// near (a 20 KiB References field of 300 lines costs 6 M).
const maxUnfoldCost = 1 << 26

func unfoldCost(fields []field) int {
	n := 0
	for _, f := range fields {
		n += f.lines * f.size
	}
	return n
}

// hasField reports whether a field named name (any case) is present.
func hasField(fields []field, name string) bool {
	for _, f := range fields {
		if strings.EqualFold(f.name, name) {
			return true
		}
	}
	return false
}
