package filter

import (
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
// 5230 §4.3), to the envelope sender.
func (MessageReplies) Vacation(r VacationReply) ([]byte, error) {
	from := r.Vacation.From
	if from == "" {
		from = r.User
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
