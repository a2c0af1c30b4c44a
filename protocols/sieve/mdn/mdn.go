package mdn

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// Rejection is what Compose builds a rejection from.
type Rejection struct {
	// Reason is the reject or ereject reason (UTF-8, RFC 5429 §2.1).
	Reason string
	// From is the postmaster address the rejection comes from.
	From string
	// To is the rejected message's envelope sender (MAIL FROM). The null
	// sender gets no rejection (RFC 5429 §2.1.2): Compose refuses it.
	To string
	// FinalRecipient is the user whose script rejected the message
	// (RFC 8098 §3.2.4).
	FinalRecipient string
	// OriginalRecipient is the RCPT TO address as the sender gave it,
	// when it differs (a +detail, an alias; RFC 8098 §3.2.3), or "".
	OriginalRecipient string
	// ReportingUA is the name of the node that ran the script (RFC 8098
	// §3.2.1), its host name.
	ReportingUA string
	// Original is the rejected message, or its header block: only the
	// header is returned.
	Original []byte
	// Date is the rejection's Date (the proposer's clock).
	Date time.Time
	// MessageID is the rejection's Message-ID without angle brackets;
	// empty: a random one at From's domain.
	MessageID string
}

// maxHeader bounds the original header returned in the third part; a
// longer one is cut at a field boundary.
const maxHeader = 64 << 10

// Compose builds the MDN (RFC 8098 §3): a multipart/report (RFC 6522)
// with report-type disposition-notification, whose parts are a text
// saying the message was rejected and why, the message/disposition-
// notification fields with "Disposition: automatic-action/
// MDN-sent-automatically; deleted" (RFC 5429 §2.1.2, RFC 8098 §3.2.6),
// and the original header as text/rfc822-headers (RFC 6522 §4). Mail
// with a non-ASCII header or address gets the RFC 6533 types
// (message/global-disposition-notification, message/global-headers).
// Lines end in CRLF; the text part is 7bit when ASCII, else
// quoted-printable UTF-8.
func Compose(r Rejection) ([]byte, error) {
	to := strings.Trim(mailheader.OneLine(r.To), " <>")
	if to == "" {
		return nil, errors.New("mdn: no rejection to the null sender (RFC 5429 §2.1.2)")
	}
	if !strings.Contains(to, "@") || strings.ContainsAny(to, "<> ") {
		return nil, fmt.Errorf("mdn: to %q: not an address", r.To)
	}
	from := strings.Trim(mailheader.OneLine(r.From), " <>")
	at := strings.LastIndexByte(from, '@')
	if at <= 0 || strings.ContainsAny(from, "<> ") {
		return nil, fmt.Errorf("mdn: from %q: not an address", r.From)
	}
	final := strings.Trim(mailheader.OneLine(r.FinalRecipient), " <>")
	if final == "" {
		return nil, errors.New("mdn: no final recipient")
	}
	orig := strings.Trim(mailheader.OneLine(r.OriginalRecipient), " <>")
	if strings.EqualFold(orig, final) {
		orig = ""
	}
	ua := mailheader.OneLine(r.ReportingUA)
	if ua == "" {
		ua = from[at+1:]
	}
	id := r.MessageID
	if id == "" {
		id = randomToken(16) + "@" + from[at+1:]
	}
	head := headerSection(r.Original)
	global := !isASCII(string(head)) || !isASCII(to) || !isASCII(final) || !isASCII(orig)
	boundary := "=_" + randomToken(12)

	var b bytes.Buffer
	b.WriteString(mailheader.Fold("Date", r.Date.Format(time.RFC1123Z)))
	b.WriteString(mailheader.Fold("From", "Postmaster <"+from+">"))
	b.WriteString(mailheader.Fold("To", "<"+to+">"))
	b.WriteString("Subject: Automatically rejected mail\r\n") // Pigeonhole's wording
	b.WriteString(mailheader.Fold("Message-ID", "<"+mailheader.OneLine(strings.Trim(id, "<>"))+">"))
	origID := msgID(headerField(head, "Message-ID"))
	if origID != "" {
		b.WriteString(mailheader.Fold("In-Reply-To", origID))
		b.WriteString(mailheader.Fold("References", origID))
	}
	b.WriteString("Auto-Submitted: auto-replied\r\n") // RFC 3834 §5
	b.WriteString("MIME-Version: 1.0\r\n")
	b.WriteString("Content-Type: multipart/report; report-type=disposition-notification;\r\n")
	b.WriteString("\tboundary=\"" + boundary + "\"\r\n")
	b.WriteString("\r\n")
	b.WriteString("This is a MIME-encapsulated message.\r\n\r\n")

	// RFC 6522 §3: the human-readable part first.
	b.WriteString("--" + boundary + "\r\n")
	rcpt := final
	if orig != "" {
		rcpt = orig
	}
	b.Write(mailheader.TextEntity("Your message to <" + rcpt + "> was automatically rejected:\n" + r.Reason))
	b.WriteString("\r\n")

	// RFC 8098 §3.1: the machine-readable part.
	startPart(&b, boundary, global, "message/disposition-notification", "message/global-disposition-notification") // RFC 6533 §6.2
	b.WriteString(mailheader.Fold("Reporting-UA", ua+"; Surat"))                                                   // RFC 8098 §3.2.1
	if orig != "" {
		b.WriteString(mailheader.Fold("Original-Recipient", addressType(orig)+"; "+orig)) // §3.2.3
	}
	b.WriteString(mailheader.Fold("Final-Recipient", addressType(final)+"; "+final)) // §3.2.4
	if origID != "" {
		b.WriteString(mailheader.Fold("Original-Message-ID", origID)) // §3.2.5
	}
	// §3.2.6: the user's script acted, not the user by hand; RFC 5429
	// §2.1.2 names the disposition.
	b.WriteString("Disposition: automatic-action/MDN-sent-automatically; deleted\r\n")
	b.WriteString("\r\n")

	// RFC 6522 §3's third part: the original header (RFC 8098 §3.1 allows
	// it in place of the whole message, which the sender has).
	startPart(&b, boundary, global, "text/rfc822-headers", "message/global-headers") // RFC 6533 §6.3
	b.Write(head)
	b.WriteString("\r\n--" + boundary + "--\r\n")
	return b.Bytes(), nil
}

// startPart writes a body part's delimiter and its Content-Type:
// globalType in a report with non-ASCII addresses or header (RFC 6533),
// else asciiType.
func startPart(b *bytes.Buffer, boundary string, global bool, asciiType, globalType string) {
	ctype := asciiType
	if global {
		ctype = globalType
	}
	b.WriteString("--" + boundary + "\r\n")
	b.WriteString("Content-Type: " + ctype + "\r\n\r\n")
}

// headerSection is the header block of msg (up to its empty line, or all
// of it), with CRLF line ends and ending in CRLF (without the empty
// line), at most maxHeader octets cut before a field that would pass it.
func headerSection(msg []byte) []byte {
	var out []byte
	fieldStart := 0
	for line := range mailheader.Lines(msg) {
		if line[0] != ' ' && line[0] != '\t' {
			fieldStart = len(out)
		}
		if len(out)+len(line)+2 > maxHeader {
			return out[:fieldStart]
		}
		// A bare CR inside a line would end it for some readers.
		out = append(out, bytes.ReplaceAll(line, []byte("\r"), []byte(" "))...)
		out = append(out, '\r', '\n')
	}
	return out
}

// headerField is the unfolded value of the first field name in head (a
// block from headerSection), or "".
func headerField(head []byte, name string) string {
	var v []byte
	found := false
	for _, line := range bytes.Split(head, []byte("\r\n")) {
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if found {
				v = append(v, line...)
			}
			continue
		}
		if found {
			break
		}
		if n, rest, ok := bytes.Cut(line, []byte(":")); ok && strings.EqualFold(strings.TrimRight(string(n), " \t"), name) {
			found = true
			v = append(v, rest...)
		}
	}
	return strings.TrimSpace(string(v))
}

// msgID is the first msg-id ("<...>") in a Message-ID value, or "".
func msgID(v string) string {
	i := strings.IndexByte(v, '<')
	if i < 0 {
		return ""
	}
	j := strings.IndexByte(v[i:], '>')
	if j < 2 || strings.ContainsAny(v[i+1:i+j], " \t<") {
		return ""
	}
	return v[i : i+j+1]
}

// addressType is the address-type of an MDN recipient field: rfc822, or
// utf-8 for a non-ASCII address (RFC 6533 §3).
func addressType(addr string) string {
	if isASCII(addr) {
		return "rfc822"
	}
	return "utf-8"
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
