package filter

import (
	"bytes"
	"log/slog"
	"net/mail"
	"strings"

	"github.com/surat-mail/surat/protocols/sieve/mdn"
	"github.com/surat-mail/surat/protocols/sieve/vacation"
)

// MessageReplies is Replies with Surat's builders: protocols/sieve/vacation
// for vacation replies and protocols/sieve/mdn for rejections.
type MessageReplies struct {
	// Hostname is the node's mail name: the rejection's Reporting-UA
	// (RFC 8098 §3.2.1).
	Hostname string
	// Sign, when set, returns the DKIM-Signature fields for a message
	// whose From is in domain (dkimsign.Keys.Sign), prepended to every
	// reply: a reply leaves from the null sender, so DMARC at the
	// destination can pass only through a DKIM signature aligned with its
	// From (RFC 7489 §3.1). An error sends it unsigned, as DSNs are.
	Sign func(domain string, msg []byte) ([]byte, error)
	// Logger reports replies sent unsigned; nil: slog's default.
	Logger *slog.Logger
}

var _ Replies = MessageReplies{}

// ShouldReply is vacation.ShouldReply (RFC 5230 §4.5, RFC 3834 §2).
func (MessageReplies) ShouldReply(header []byte, envFrom string, userAddrs []string) (bool, string) {
	return vacation.ShouldReply(header, envFrom, userAddrs)
}

// Vacation composes the reply: From the :from address or the user's (RFC
// 5230 §4.3), to the envelope sender. A :from that is not one of the
// user's own addresses is not used (the reply is from the user): a script
// may not put another's address on mail it sends, as submission refuses
// a From of another user.
func (m MessageReplies) Vacation(r VacationReply) ([]byte, error) {
	from := r.User
	if ownAddress(r.Vacation.From, r.User, r.Addresses) {
		from = r.Vacation.From
	}
	msg, err := vacation.Compose(vacation.Reply{
		From: from, To: r.To, Subject: r.Vacation.Subject, Reason: r.Vacation.Reason, Mime: r.Vacation.Mime,
		Original: r.Header, Date: r.Now,
	})
	if err != nil {
		return nil, err
	}
	return m.signed(domainOf(r.User), msg), nil
}

// Rejection composes the MDN, from the postmaster of the user's domain.
func (m MessageReplies) Rejection(r Rejection) ([]byte, error) {
	orig := ""
	if !strings.EqualFold(r.Recipient, r.User) {
		orig = r.Recipient
	}
	msg, err := mdn.Compose(mdn.Rejection{
		Reason: r.Reason, From: "postmaster@" + domainOf(r.User), To: r.To,
		FinalRecipient: r.User, OriginalRecipient: orig, ReportingUA: m.Hostname,
		Original: r.Header, Date: r.Now,
	})
	if err != nil {
		return nil, err
	}
	return m.signed(domainOf(r.User), msg), nil
}

// signed is msg with domain's DKIM-Signature on top, or msg as it is when
// there is no signer or signing fails. The From of every reply is in
// domain: the user's own addresses are in the user's domain or one of its
// aliases', which the cluster also holds keys for; a From in another of
// them is signed by that domain instead.
func (m MessageReplies) signed(domain string, msg []byte) []byte {
	if m.Sign == nil {
		return msg
	}
	if from, ok := fromDomain(msg); ok {
		domain = from
	}
	fields, err := m.Sign(domain, msg)
	if err != nil {
		log := m.Logger
		if log == nil {
			log = slog.Default()
		}
		log.Warn("sieve reply not DKIM-signed", "domain", domain, "err", err)
		return msg
	}
	return append(fields, msg...)
}

// fromDomain is the domain of the address in msg's From field.
func fromDomain(msg []byte) (string, bool) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return "", false
	}
	a, err := mail.ParseAddress(m.Header.Get("From"))
	if err != nil {
		return "", false
	}
	return strings.ToLower(domainOf(a.Address)), true
}

// ownAddress reports whether from (an RFC 5322 mailbox, "Name <addr>" or
// a bare address) is the user's address or one of its own.
func ownAddress(from, user string, own []string) bool {
	if from == "" {
		return false
	}
	a, err := mail.ParseAddress(from)
	if err != nil {
		return false
	}
	if strings.EqualFold(a.Address, user) {
		return true
	}
	for _, o := range own {
		if strings.EqualFold(a.Address, o) {
			return true
		}
	}
	return false
}
