package vacation

import (
	"bytes"
	"net/mail"
	"strings"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// field is one header field: its name as written (trimmed) and its
// value unfolded, without the leading and trailing white space.
type field struct {
	name, value string
}

// maxHeader bounds how much of a header block is read: a header longer
// than this is hostile or broken, and its first part is enough to decide.
const maxHeader = 256 << 10

// readFields splits a raw header block into fields. It is tolerant, as
// mail from elsewhere needs: lines may end in CRLF or a bare LF, a line
// that is neither a field nor a continuation is skipped instead of ending
// the header (a strict reader would stop there and miss a List-Id below
// it, and answer a list), and the block ends at the first empty line or
// at the end of the input.
func readFields(header []byte) []field {
	if len(header) > maxHeader {
		header = header[:maxHeader]
	}
	var fs []field
	cont := false // whether a continuation line belongs to the last field
	// Up to the empty line that ends the header section (RFC 5322 §2.1).
	for line := range mailheader.Lines(header) {
		if line[0] == ' ' || line[0] == '\t' {
			if cont {
				fs[len(fs)-1].value += string(line) // RFC 5322 §2.2.3 unfolding
			}
			continue
		}
		colon := bytes.IndexByte(line, ':')
		name := ""
		if colon > 0 {
			name = strings.TrimRight(string(line[:colon]), " \t") // obs-optional: WSP before ':'
		}
		if name == "" || strings.ContainsAny(name, " \t") {
			cont = false
			continue
		}
		fs = append(fs, field{name: name, value: string(line[colon+1:])})
		cont = true
	}
	for i := range fs {
		fs[i].value = strings.TrimSpace(fs[i].value)
	}
	return fs
}

// values is the values of every field called name (case-insensitive).
func values(fs []field, name string) []string {
	var vs []string
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			vs = append(vs, f.value)
		}
	}
	return vs
}

// first is the value of the first field called name, or "".
func first(fs []field, name string) string {
	for _, f := range fs {
		if strings.EqualFold(f.name, name) {
			return f.value
		}
	}
	return ""
}

// addresses is the addr-specs of an address-list field value (RFC 5322
// §3.4). A value net/mail cannot parse (obsolete syntax, an unknown
// charset in a display name) is scanned for anything shaped like
// local@domain instead, so a sloppy To: still counts.
func addresses(value string) []string {
	if list, err := mail.ParseAddressList(value); err == nil {
		out := make([]string, 0, len(list))
		for _, a := range list {
			out = append(out, a.Address)
		}
		return out
	}
	var out []string
	for _, w := range strings.FieldsFunc(value, func(r rune) bool {
		return r == ' ' || r == '\t' || r == ',' || r == ';' || r == '<' || r == '>' || r == '"' || r == '(' || r == ')'
	}) {
		if at := strings.LastIndexByte(w, '@'); at > 0 && at < len(w)-1 {
			// A group's name written without a space ("team:a@b", RFC
			// 5322 §3.4) is cut at its colon.
			if c := strings.LastIndexByte(w[:at], ':'); c >= 0 {
				w = w[c+1:]
			}
			if w != "" && w[0] != '@' {
				out = append(out, w)
			}
		}
	}
	return out
}
