package wire

import (
	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

// Envelope writes env as an ENVELOPE (RFC 9051 §7.5.2 and §9 envelope,
// RFC 3501 §7.4.2): date, subject, from, sender, reply-to, to, cc, bcc,
// in-reply-to and message-id, each NIL where env has none. A nil env is
// an envelope of NILs.
func (e *Encoder) Envelope(env *imapmsg.Envelope) *Encoder {
	if env == nil {
		env = &imapmsg.Envelope{}
	}
	e.Open()
	e.NString(env.Date.Value, env.Date.Valid).SP()
	e.NString(env.Subject.Value, env.Subject.Valid).SP()
	e.Addresses(env.From).SP()
	e.Addresses(env.Sender).SP()
	e.Addresses(env.ReplyTo).SP()
	e.Addresses(env.To).SP()
	e.Addresses(env.Cc).SP()
	e.Addresses(env.Bcc).SP()
	e.NString(env.InReplyTo.Value, env.InReplyTo.Valid).SP()
	e.NString(env.MessageID.Value, env.MessageID.Valid)
	return e.Close()
}

// Addresses writes an envelope address list: NIL when empty, else the
// addresses in parentheses with nothing between them (RFC 9051 §9
// env-from: "(" 1*address ")"), each (name adl mailbox host) with NIL for
// an empty field (group markers are addresses with NILs, RFC 9051
// §7.5.2).
func (e *Encoder) Addresses(list []imapmsg.Address) *Encoder {
	if len(list) == 0 {
		return e.NIL()
	}
	e.Open()
	for _, a := range list {
		e.Open()
		e.nstr(a.Name).SP().nstr(a.Route).SP().nstr(a.Mailbox).SP().nstr(a.Host)
		e.Close()
	}
	return e.Close()
}

// nstr writes s, NIL when empty.
func (e *Encoder) nstr(s string) *Encoder { return e.NString(s, s != "") }
