package vacation

import (
	"strings"
)

// Reasons ShouldReply gives for not replying, for the delivery log line.
const (
	ReasonNullSender    = "null sender"
	ReasonBadSender     = "sender is not an address"
	ReasonSystemSender  = "sender is a mailer or list address"
	ReasonOwnAddress    = "sender is the user"
	ReasonAutoSubmitted = "message is auto-submitted"
	ReasonPrecedence    = "precedence bulk, list, junk or auto_reply"
	ReasonList          = "message is from a mailing list"
	ReasonSuppressed    = "auto-replies suppressed by the sender"
	ReasonNotPersonal   = "user's address not in To, Cc or Bcc"
)

// listFields are the RFC 2369 and RFC 2919 fields a list expander adds;
// any one of them marks list mail (Pigeonhole checks the same set).
var listFields = []string{"List-Id", "List-Help", "List-Subscribe", "List-Unsubscribe", "List-Post", "List-Owner", "List-Archive"}

// recipientFields are where RFC 5230 §4.5 looks for the user's address.
var recipientFields = []string{"To", "Cc", "Bcc", "Resent-To", "Resent-Cc", "Resent-Bcc"}

// ShouldReply reports whether a vacation reply may answer a message with
// the header block header, envelope sender envFrom (MAIL FROM, "" for
// the null sender) to a user whose addresses are userAddrs (the user's
// own addresses and the script's :addresses). When it may not, reason
// says why (one of the Reason constants).
//
// No reply goes to:
//   - the null sender (RFC 3834 §2, RFC 5230 §4.6: a bounce or a report);
//   - MAILER-DAEMON, LISTSERV, majordomo, owner-* or *-request senders
//     (RFC 3834 §2: mailers and list administrative addresses);
//   - the user themselves;
//   - a message with Auto-Submitted other than "no" (RFC 3834 §2, §5);
//   - a sender that is not local@domain (nothing to reply to);
//   - Precedence bulk, list, junk (de facto: vacation(1), Pigeonhole) or auto_reply
//     (older autoresponders' mark);
//   - a message with List-Id or another List-* field (RFC 5230 §4.6);
//   - X-Auto-Response-Suppress OOF or All (Microsoft's field asking for
//     no out-of-office replies);
//   - a message whose To, Cc, Bcc, Resent-To, Resent-Cc and Resent-Bcc
//     name none of userAddrs (RFC 5230 §4.5 SHOULD NOT; so also when
//     userAddrs is empty).
//
// Addresses are compared without regard to case and to a "+detail"
// (RFC 5233): mail to alice+work@example.org is personal to
// alice@example.org.
func ShouldReply(header []byte, envFrom string, userAddrs []string) (bool, string) {
	envFrom = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(envFrom), "<"), ">"))
	if envFrom == "" {
		return false, ReasonNullSender
	}
	if at := strings.LastIndexByte(envFrom, '@'); at <= 0 || at == len(envFrom)-1 {
		return false, ReasonBadSender
	}
	if systemSender(envFrom) {
		return false, ReasonSystemSender
	}
	own := make(map[string]bool, len(userAddrs))
	for _, a := range userAddrs {
		own[normalize(a)] = true
	}
	if own[normalize(envFrom)] {
		return false, ReasonOwnAddress
	}
	fs := readFields(header)
	for _, v := range values(fs, "Auto-Submitted") {
		// RFC 3834 §5: "no" or a keyword with parameters after ';'.
		kw, _, _ := strings.Cut(stripComments(v), ";")
		if kw = strings.TrimSpace(kw); !strings.EqualFold(kw, "no") {
			return false, ReasonAutoSubmitted
		}
	}
	for _, v := range values(fs, "Precedence") {
		switch strings.ToLower(strings.TrimSpace(stripComments(v))) {
		case "bulk", "list", "junk", "auto_reply":
			return false, ReasonPrecedence
		}
	}
	for _, name := range listFields {
		if len(values(fs, name)) > 0 {
			return false, ReasonList
		}
	}
	for _, v := range values(fs, "X-Auto-Response-Suppress") {
		for _, kw := range strings.Split(v, ",") {
			switch strings.ToLower(strings.TrimSpace(kw)) {
			case "all", "oof":
				return false, ReasonSuppressed
			}
		}
	}
	for _, name := range recipientFields {
		for _, v := range values(fs, name) {
			for _, a := range addresses(v) {
				if own[normalize(a)] {
					return true, ""
				}
			}
		}
	}
	return false, ReasonNotPersonal
}

// systemSender reports whether addr's local part names a mailer or a
// list's administrative address (RFC 3834 §2; Pigeonhole's list).
func systemSender(addr string) bool {
	local := addr
	if at := strings.LastIndexByte(addr, '@'); at >= 0 {
		local = addr[:at]
	}
	local = strings.ToLower(local)
	switch local {
	case "mailer-daemon", "listserv", "majordomo":
		return true
	}
	return strings.HasPrefix(local, "owner-") || strings.HasSuffix(local, "-request")
}

// normalize lower-cases an address and drops a "+detail" from its local
// part, for comparing a recipient with the user's addresses.
func normalize(addr string) string {
	addr = strings.ToLower(strings.TrimSpace(addr))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 {
		return addr
	}
	local, domain := addr[:at], strings.TrimSuffix(addr[at+1:], ".")
	if i := strings.IndexByte(local, '+'); i > 0 {
		local = local[:i]
	}
	return local + "@" + domain
}

// stripComments removes RFC 5322 §3.2.2 comments ("(...)", nested, with
// quoted-pairs) from a structured field value.
func stripComments(v string) string {
	if !strings.Contains(v, "(") {
		return v
	}
	var b strings.Builder
	depth := 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '\\' && depth > 0:
			i++
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
		case depth == 0:
			b.WriteByte(c)
		}
	}
	return b.String()
}
