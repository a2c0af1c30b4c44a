package outbound

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// fullReturnLimit: with no RET, messages up to this size are returned
// whole in a DSN, larger ones by their header only (RFC 3461 §4.3 leaves
// the choice to the reporting MTA).
const fullReturnLimit = 256 << 10

// DSNRecipient is one per-recipient block of a delivery-status report
// (RFC 3464 §2.3).
type DSNRecipient struct {
	Address     string // Final-Recipient
	ORCPT       string // Original-Recipient, "addr-type;address"
	Action      string // failed, delayed, delivered, relayed, expanded
	Status      string // RFC 3463 code
	RemoteMTA   string
	Diagnostic  string // the remote reply, for Diagnostic-Code: smtp
	LastAttempt time.Time
	// WillRetryUntil, for Action delayed, is when the queue gives up.
	WillRetryUntil time.Time
}

// delayedOnly reports whether every recipient of a report is delayed.
func delayedOnly(rs []DSNRecipient) bool {
	for _, r := range rs {
		if r.Action != "delayed" {
			return false
		}
	}
	return len(rs) > 0
}

// Report is what a DSN says.
type Report struct {
	ReportingMTA string // our host name
	Domain       string // for MAILER-DAEMON@ and the Message-ID
	To           string // the original envelope sender
	EnvID        string
	Arrival      time.Time
	Date         time.Time
	Return       string // "FULL", "HDRS" or "" (choose by size)
	Original     []byte
	Recipients   []DSNRecipient
}

// BuildDSN formats a multipart/report (RFC 6522) with a human-readable
// part, a message/delivery-status part (RFC 3464) and the original message
// (message/rfc822) or its header (text/rfc822-headers). Lines end in CRLF.
//
// For internationalised mail (RFC 6533) the types are the global ones:
// message/global-delivery-status, message/global and
// message/global-headers, and non-ASCII addresses are of type utf-8.
func BuildDSN(r Report) []byte {
	global := r.international()
	boundary := randomToken(12)
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\r\n", args...) }
	failed := false
	for _, rc := range r.Recipients {
		if rc.Action == "failed" {
			failed = true
		}
	}
	subject := "Delivery Status Notification"
	switch {
	case failed:
		subject = "Undelivered Mail Returned to Sender"
	case delayedOnly(r.Recipients):
		subject = "Delayed Mail (still being retried)"
	}
	w("From: Mail Delivery System <MAILER-DAEMON@%s>", r.Domain)
	w("To: <%s>", headerSafe(r.To))
	w("Subject: %s", subject)
	w("Date: %s", r.Date.Format(time.RFC1123Z))
	w("Message-ID: <%s@%s>", randomToken(16), r.Domain)
	w("Auto-Submitted: auto-replied") // RFC 3834 §5
	w("MIME-Version: 1.0")
	w("Content-Type: multipart/report; report-type=delivery-status;")
	w("\tboundary=\"%s\"", boundary)
	w("")
	w("This is a MIME-encapsulated message.")
	w("")

	// The human-readable part (RFC 6522 §3, first part).
	w("--%s", boundary)
	w("Content-Type: text/plain; charset=utf-8")
	w("Content-Transfer-Encoding: 8bit")
	w("")
	w("This is the mail system at host %s.", r.ReportingMTA)
	w("")
	switch {
	case failed:
		w("Your message could not be delivered to one or more recipients.")
		w("It is attached below.")
	case delayedOnly(r.Recipients):
		w("Your message could not be delivered yet to the recipients below.")
		w("The mail system will keep trying until %s;", r.Recipients[0].WillRetryUntil.Format(time.RFC1123Z))
		w("you need not send it again. Its header is attached below.")
	default:
		w("This is a report on the delivery of your message.")
	}
	w("")
	for _, rc := range r.Recipients {
		w("<%s>: %s", headerSafe(rc.Address), rc.Action)
		if rc.Diagnostic != "" {
			w("    %s", truncateDiagnostic(headerSafe(rc.Diagnostic)))
		}
	}
	w("")

	// RFC 3464 §2.2 per-message fields, then §2.3 per-recipient blocks.
	w("--%s", boundary)
	if global {
		w("Content-Type: message/global-delivery-status") // RFC 6533 §6.1
	} else {
		w("Content-Type: message/delivery-status")
	}
	w("")
	w("Reporting-MTA: dns; %s", headerSafe(r.ReportingMTA))
	if r.EnvID != "" {
		w("Original-Envelope-Id: %s", headerSafe(r.EnvID))
	}
	if !r.Arrival.IsZero() {
		w("Arrival-Date: %s", r.Arrival.Format(time.RFC1123Z))
	}
	for _, rc := range r.Recipients {
		w("")
		if rc.ORCPT != "" {
			w("Original-Recipient: %s", headerSafe(rc.ORCPT))
		}
		w("Final-Recipient: %s; %s", addressType(rc.Address), headerSafe(rc.Address))
		w("Action: %s", rc.Action)
		w("Status: %s", rc.Status)
		if rc.RemoteMTA != "" {
			w("Remote-MTA: dns; %s", headerSafe(rc.RemoteMTA))
		}
		if rc.Diagnostic != "" {
			b.WriteString(mailheader.Fold("Diagnostic-Code", "smtp; "+truncateDiagnostic(headerSafe(rc.Diagnostic))))
		}
		if !rc.LastAttempt.IsZero() {
			w("Last-Attempt-Date: %s", rc.LastAttempt.Format(time.RFC1123Z))
		}
		if rc.Action == "delayed" && !rc.WillRetryUntil.IsZero() {
			w("Will-Retry-Until: %s", rc.WillRetryUntil.Format(time.RFC1123Z)) // RFC 3464 §2.3.7
		}
	}
	w("")

	// The returned content (RFC 6522 §3, third part; RFC 3462 / 6522
	// text/rfc822-headers for headers only).
	ret := r.Return
	if ret == "" {
		ret = "FULL"
		if len(r.Original) > fullReturnLimit {
			ret = "HDRS"
		}
	}
	w("--%s", boundary)
	switch {
	case ret == "HDRS" && global:
		w("Content-Type: message/global-headers") // RFC 6533 §6.3
		w("")
		b.Write(headerSection(r.Original))
	case ret == "HDRS":
		w("Content-Type: text/rfc822-headers")
		w("")
		b.Write(headerSection(r.Original))
	default:
		if global {
			w("Content-Type: message/global") // RFC 6532 §3.7
		} else {
			w("Content-Type: message/rfc822")
		}
		w("")
		b.Write(r.Original)
		if !bytes.HasSuffix(r.Original, []byte("\r\n")) {
			b.WriteString("\r\n")
		}
	}
	w("")
	w("--%s--", boundary)
	return b.Bytes()
}

// international reports whether the DSN concerns internationalised mail
// (RFC 6530): a non-ASCII address, or a header that is not ASCII.
func (r Report) international() bool {
	if !isASCII(r.To) || !isASCII(string(headerSection(r.Original))) {
		return true
	}
	for _, rc := range r.Recipients {
		if !isASCII(rc.Address) || !isASCII(rc.ORCPT) {
			return true
		}
	}
	return false
}

// addressType is the address-type of a DSN recipient field: rfc822, or
// utf-8 for a non-ASCII address (RFC 6533 §3).
func addressType(addr string) string {
	if isASCII(addr) {
		return "rfc822"
	}
	return "utf-8"
}

// headerSection is the message up to and including the blank line that
// ends its header (RFC 5322 §2.1), or all of it when there is no body.
func headerSection(msg []byte) []byte {
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+4]
	}
	out := bytes.Clone(msg)
	if !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, "\r\n"...)
	}
	return out
}

// maxDiagnostic bounds a remote reply quoted in a DSN, so that its line
// stays under RFC 5322 §2.1.1's 998 octets even when it cannot be folded
// (a reply of one long word).
const maxDiagnostic = 900

// truncateDiagnostic cuts s to maxDiagnostic octets on a UTF-8 boundary.
func truncateDiagnostic(s string) string {
	if len(s) <= maxDiagnostic {
		return s
	}
	cut := maxDiagnostic - 3
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}

// headerSafe keeps a value on one header line.
func headerSafe(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' || r == 0 {
			return ' '
		}
		return r
	}, s)
}

func randomToken(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
