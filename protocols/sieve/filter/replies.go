package filter

import (
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
func (MessageReplies) Vacation(r VacationReply) ([]byte, error) {
	from := r.User
	if ownAddress(r.Vacation.From, r.User, r.Addresses) {
		from = r.Vacation.From
	}
	return vacation.Compose(vacation.Reply{
		From: from, To: r.To, Subject: r.Vacation.Subject, Reason: r.Vacation.Reason, Mime: r.Vacation.Mime,
		Original: r.Header, Date: r.Now,
	})
}

// Rejection composes the MDN, from the postmaster of the user's domain.
func (m MessageReplies) Rejection(r Rejection) ([]byte, error) {
	orig := ""
	if !strings.EqualFold(r.Recipient, r.User) {
		orig = r.Recipient
	}
	return mdn.Compose(mdn.Rejection{
		Reason: r.Reason, From: "postmaster@" + domainOf(r.User), To: r.To,
		FinalRecipient: r.User, OriginalRecipient: orig, ReportingUA: m.Hostname,
		Original: r.Header, Date: r.Now,
	})
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
