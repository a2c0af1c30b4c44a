package vacation

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// Reply is what Compose builds a vacation reply from: the vacation
// action's arguments (RFC 5230 §4) and the message it answers.
type Reply struct {
	// From is the reply's From field: the :from argument, or the user's
	// address (RFC 5230 §4.3, §5.3); an address or "Name <address>".
	From string
	// To is the address the reply goes to, the original envelope sender
	// (RFC 5230 §5.4; RFC 3834 §4).
	To string
	// Subject is the :subject argument; empty: "Auto: " and the
	// original's subject (RFC 5230 §4.3, RFC 3834 §3.1.5).
	Subject string
	// Reason is the text of the reply, or with Mime a MIME entity, its
	// Content-* fields, an empty line, and its body (RFC 5230 §4.4).
	Reason string
	Mime   bool
	// Original is the header block of the message answered: its
	// Subject, Message-ID and References are read.
	Original []byte
	// Date is the reply's Date (the proposer's clock).
	Date time.Time
	// MessageID is the reply's Message-ID without angle brackets; empty:
	// a random one at From's domain.
	MessageID string
}

// maxReferences bounds the References field of a reply to a long thread:
// the first id (the thread's root) and the latest ones are kept, as mail
// clients do.
const maxReferences = 20

// Compose builds the reply message: header fields, then the body, every
// line ending in CRLF. The reply carries Auto-Submitted: auto-replied
// (RFC 3834 §5, RFC 5230 §5.5), In-Reply-To and References naming the
// original when it has a Message-ID (RFC 3834 §3.1.6, RFC 5322 §3.6.4),
// header text outside ASCII as RFC 2047 encoded-words, and a plain-text
// body in 7bit when it is short-lined ASCII, else quoted-printable UTF-8,
// so that it passes any relay (no 8BITMIME needed). With Mime, the
// Reason's Content-* fields become the message's and its body follows
// as written (line lengths included: the entity is its author's); other
// fields in it are dropped (they would repeat or contradict the reply's
// own).
func Compose(r Reply) ([]byte, error) {
	from, err := mail.ParseAddress(mailheader.OneLine(r.From))
	if err != nil {
		return nil, fmt.Errorf("vacation: from %q: %w", r.From, err)
	}
	to := strings.Trim(mailheader.OneLine(r.To), " <>")
	if to == "" || !strings.Contains(to, "@") || strings.ContainsAny(to, "<> ") {
		return nil, fmt.Errorf("vacation: to %q: not an address", r.To)
	}
	id := r.MessageID
	if id == "" {
		domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
		id = randomID() + "@" + domain
	}
	orig := readFields(r.Original)
	subject := mailheader.OneLine(r.Subject)
	if subject == "" {
		subject = "Auto: " + decodeHeader(first(orig, "Subject"))
		if strings.TrimSpace(subject) == "Auto:" {
			subject = "Automatic reply"
		}
	}

	var b bytes.Buffer
	b.WriteString(mailheader.Fold("Date", r.Date.Format(time.RFC1123Z)))
	b.WriteString(mailheader.Fold("From", from.String())) // net/mail encodes a non-ASCII name (RFC 2047)
	b.WriteString(mailheader.Fold("To", "<"+to+">"))
	b.WriteString(mailheader.Fold("Subject", encodeHeader(subject)))
	b.WriteString(mailheader.Fold("Message-ID", "<"+mailheader.OneLine(strings.Trim(id, "<>"))+">"))
	if msgID := msgIDs(first(orig, "Message-ID")); len(msgID) > 0 {
		b.WriteString(mailheader.Fold("In-Reply-To", msgID[0]))
		refs := msgIDs(strings.Join(values(orig, "References"), " "))
		if len(refs) == 0 {
			// RFC 5322 §3.6.4: a parent with no References but a single
			// In-Reply-To id: that id starts the list.
			if irt := msgIDs(first(orig, "In-Reply-To")); len(irt) == 1 {
				refs = irt
			}
		}
		refs = append(refs, msgID[0])
		if len(refs) > maxReferences {
			refs = append(refs[:1], refs[len(refs)-maxReferences+1:]...)
		}
		b.WriteString(mailheader.Fold("References", strings.Join(refs, " ")))
	}
	b.WriteString("Auto-Submitted: auto-replied\r\n") // RFC 3834 §5
	b.WriteString("MIME-Version: 1.0\r\n")
	if r.Mime {
		head, body, err := mimeEntity(r.Reason)
		if err != nil {
			return nil, fmt.Errorf("vacation: :mime reason: %w", err)
		}
		b.Write(head)
		b.WriteString("\r\n")
		b.Write(body)
	} else {
		b.Write(mailheader.TextEntity(r.Reason))
	}
	return b.Bytes(), nil
}

// mimeEntity splits a :mime reason into the Content-* fields of its
// header (with their continuation lines) and its body, both with CRLF
// line ends. A reason that does not start with a header field is all
// body (RFC 2045 §5.2's default type then applies).
func mimeEntity(reason string) (head, body []byte, err error) {
	s := mailheader.CRLF(reason)
	if strings.TrimSpace(s) == "" {
		return nil, nil, errors.New("empty")
	}
	if rest, ok := strings.CutPrefix(s, "\r\n"); ok {
		return nil, []byte(ensureCRLF(rest)), nil // an empty header
	}
	if line, _, _ := strings.Cut(s, "\r\n"); !isFieldLine(line) {
		return nil, []byte(ensureCRLF(s)), nil
	}
	fields, rest, found := strings.Cut(s, "\r\n\r\n")
	if !found {
		fields, rest = strings.TrimSuffix(s, "\r\n"), ""
	}
	var h bytes.Buffer
	keep := false
	for _, line := range strings.Split(fields, "\r\n") {
		if line == "" {
			continue
		}
		if line[0] != ' ' && line[0] != '\t' {
			if !isFieldLine(line) {
				return nil, nil, fmt.Errorf("line %q is not a header field", line)
			}
			keep = len(line) > 8 && strings.EqualFold(line[:8], "Content-")
		}
		if keep {
			h.WriteString(line)
			h.WriteString("\r\n")
		}
	}
	return h.Bytes(), []byte(ensureCRLF(rest)), nil
}

// isFieldLine reports whether line starts a header field: a name of
// printable ASCII without white space, then ':' (RFC 5322 §2.2).
func isFieldLine(line string) bool {
	name, _, ok := strings.Cut(line, ":")
	if !ok || name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c >= 0x7f {
			return false
		}
	}
	return true
}

// msgIDs is the msg-ids ("<...>") in a Message-ID, In-Reply-To or
// References value (RFC 5322 §3.6.4), other text ignored.
func msgIDs(v string) []string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			return ids
		}
		j := strings.IndexByte(v[i:], '>')
		if j < 0 {
			return ids
		}
		id := v[i : i+j+1]
		if len(id) > 2 && !strings.ContainsAny(id[1:len(id)-1], " \t<") {
			ids = append(ids, id)
		}
		v = v[i+j+1:]
	}
}

// decodeHeader decodes RFC 2047 encoded-words in v; text it cannot
// decode (an unknown charset) is kept as written.
func decodeHeader(v string) string {
	d, err := new(mime.WordDecoder).DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}

// encodeHeader encodes unstructured header text (RFC 2047 §5 (1)): the
// words that are not printable ASCII, or that would read as an
// encoded-word, become encoded-words; the others stay readable.
// Adjacent words to encode are encoded together, the space between them
// inside (white space between two encoded-words is not text, RFC 2047
// §6.2).
func encodeHeader(v string) string {
	if !strings.ContainsFunc(v, needsEncoding) && !strings.Contains(v, "=?") {
		return v
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
	var out, run []string
	flush := func() {
		if run != nil {
			out = append(out, encodeWords(strings.Join(run, " ")))
			run = nil
		}
	}
	for _, w := range strings.Split(v, " ") {
		switch {
		case strings.ContainsFunc(w, needsEncoding) || strings.Contains(w, "=?"):
			run = append(run, w)
		case w == "" && run != nil:
			run = append(run, w) // keep runs of spaces inside the encoded text
		default:
			flush()
			out = append(out, w)
		}
	}
	flush()
	return strings.Join(out, " ")
}

// needsEncoding reports whether r cannot stand as itself in a header.
func needsEncoding(r rune) bool {
	return r >= 0x7f || r < ' '
}

// encodeWords encodes s as Q-encoded UTF-8 encoded-words short enough
// that a folded line keeps to 78 octets even after a field name (RFC 2047
// §2 allows 75 per word; §5 wants whole characters in each).
func encodeWords(s string) string {
	const prefix, suffix = "=?utf-8?q?", "?="
	const maxPayload = 66 - len(prefix) - len(suffix)
	var words []string
	var w strings.Builder
	for _, r := range s {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r < 0x80 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("!*+-/", r)):
			enc = string(r)
		default:
			var buf [utf8.UTFMax]byte
			for _, c := range buf[:utf8.EncodeRune(buf[:], r)] {
				enc += fmt.Sprintf("=%02X", c)
			}
		}
		if w.Len()+len(enc) > maxPayload {
			words = append(words, prefix+w.String()+suffix)
			w.Reset()
		}
		w.WriteString(enc)
	}
	if w.Len() > 0 {
		words = append(words, prefix+w.String()+suffix)
	}
	return strings.Join(words, " ")
}

func ensureCRLF(s string) string {
	if s != "" && !strings.HasSuffix(s, "\r\n") {
		return s + "\r\n"
	}
	return s
}

func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
