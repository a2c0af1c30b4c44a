package authload

import (
	"bufio"
	"bytes"
	"fmt"
	"net/textproto"
	"strings"
)

// CheckHeader checks the header section of a message stored by a node
// (as IMAP's BODY[HEADER] gives it) against what the round's mode must
// leave there, and returns the Authentication-Results field it found
// (unfolded; "" when off):
//
//   - on: exactly one Authentication-Results field with authservID
//     (RFC 8601 §2.2), saying spf=pass for smtp.mailfrom=Sender,
//     dkim=pass for header.d=SenderDomain, and dmarc=pass for
//     header.from=SenderDomain;
//   - off: no Authentication-Results field with authservID at all.
//
// So a run cannot measure, as "on", nodes that did not check, nor, as
// "off", nodes that did.
func CheckHeader(header []byte, on bool, authservID string) (string, error) {
	h, err := parseHeader(header)
	if err != nil {
		return "", err
	}
	var ours []string
	for _, v := range h.Values("Authentication-Results") {
		id, _, _ := strings.Cut(stripComments(v), ";")
		if strings.EqualFold(strings.TrimSpace(id), authservID) {
			ours = append(ours, v)
		}
	}
	if !on {
		if len(ours) > 0 {
			return "", fmt.Errorf("checks off, yet the message carries Authentication-Results: %s", ours[0])
		}
		return "", nil
	}
	if len(ours) != 1 {
		return "", fmt.Errorf("%d Authentication-Results fields with authserv-id %s, want 1 (all: %q)",
			len(ours), authservID, h.Values("Authentication-Results"))
	}
	want := []struct{ method, prop, value string }{
		{"spf", "smtp.mailfrom", Sender},
		{"dkim", "header.d", SenderDomain},
		{"dmarc", "header.from", SenderDomain},
	}
	infos := resinfos(ours[0])
	for _, w := range want {
		found := false
		for _, ri := range infos {
			if ri.method == w.method && ri.result == "pass" && strings.EqualFold(ri.props[w.prop], w.value) {
				found = true
				break
			}
		}
		if !found {
			return ours[0], fmt.Errorf("no %s=pass with %s=%s in Authentication-Results: %s", w.method, w.prop, w.value, ours[0])
		}
	}
	return ours[0], nil
}

// parseHeader reads a header section, unfolding its fields.
func parseHeader(header []byte) (textproto.MIMEHeader, error) {
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(header))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, fmt.Errorf("header section: %w", err)
	}
	return h, nil
}

// resinfo is one method's result in an Authentication-Results field
// (RFC 8601 §2.2 resinfo): "dkim=pass header.d=example.com".
type resinfo struct {
	method, result string
	props          map[string]string
}

// resinfos splits an unfolded Authentication-Results value (after the
// field name) into its results, the authserv-id and "none" left out.
// Comments are dropped; quoted strings keep their ';' and spaces. It is
// what this benchmark needs of RFC 8601 §2.2, not all of it.
func resinfos(v string) []resinfo {
	var out []resinfo
	for i, part := range splitOutsideQuotes(stripComments(v), ';') {
		if i == 0 {
			continue // authserv-id [version]
		}
		words := splitOutsideQuotes(part, ' ', '\t')
		var ri resinfo
		for _, w := range words {
			k, val, ok := strings.Cut(w, "=")
			if !ok {
				continue
			}
			val = strings.Trim(val, `"`)
			if ri.method == "" {
				ri.method, ri.result = strings.ToLower(k), strings.ToLower(val)
				ri.props = map[string]string{}
				continue
			}
			ri.props[strings.ToLower(k)] = val
		}
		if ri.method != "" {
			out = append(out, ri)
		}
	}
	return out
}

// stripComments removes (nested) comments outside quoted strings (RFC
// 5322 §3.2.2).
func stripComments(s string) string {
	var b strings.Builder
	depth, quoted, escaped := 0, false, false
	for _, c := range s {
		switch {
		case escaped:
			escaped = false
		case c == '\\' && (quoted || depth > 0):
			escaped = true
		case c == '"' && depth == 0:
			quoted = !quoted
		case c == '(' && !quoted:
			depth++
			continue
		case c == ')' && !quoted && depth > 0:
			depth--
			continue
		}
		if depth == 0 {
			b.WriteRune(c)
		}
	}
	return b.String()
}

// splitOutsideQuotes splits s at any of seps that is not inside a quoted
// string, dropping empty pieces and trimming space around the others.
func splitOutsideQuotes(s string, seps ...rune) []string {
	var out []string
	var cur strings.Builder
	quoted, escaped := false, false
	flush := func() {
		if p := strings.TrimSpace(cur.String()); p != "" {
			out = append(out, p)
		}
		cur.Reset()
	}
	for _, c := range s {
		switch {
		case escaped:
			escaped = false
		case c == '\\' && quoted:
			escaped = true
		case c == '"':
			quoted = !quoted
		case !quoted && strings.ContainsRune(string(seps), c):
			flush()
			continue
		}
		cur.WriteRune(c)
	}
	flush()
	return out
}
