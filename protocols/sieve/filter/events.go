package filter

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"slices"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/sieve"
)

const (
	// maxReplyBytes bounds one reply message (a vacation reply, a
	// rejection) and also all of one delivery's replies together: they
	// are proposed in the delivery's entry, with the message's last chunk
	// and its heads, under the entry bound (docs/DESIGN.md invariant 4).
	maxReplyBytes = 128 << 10
	maxOneReply   = 64 << 10
	// maxMDNHeader bounds the original header a rejection returns (RFC
	// 6522 §4 text/rfc822-headers), so that the MDN fits maxOneReply.
	maxMDNHeader = 32 << 10
)

// events are what one recipient's decision records with the delivery: a
// vacation reply or a rejection, and the duplicate test's ids. budget is
// what the message's replies may still take.
func (r *run) events(d decided, now time.Time, budget *int) []*evlog.Event {
	var out []*evlog.Event
	switch {
	case d.reject != nil:
		out = append(out, r.rejection(d, now, budget)...)
	case d.vacation != nil:
		out = append(out, r.vacationReply(d, now, budget)...)
	}
	if d.reject == nil && len(d.dups) > 0 {
		// RFC 7352 §3: the message is now seen for each id.
		period := min(max(d.dupExpires, time.Second), MaxDuplicatePeriod)
		if d.dupExpires <= 0 {
			period = MaxDuplicatePeriod
		}
		out = append(out, &evlog.Event{Kind: &evlog.Event_DuplicateRecorded{DuplicateRecorded: &evlog.DuplicateRecorded{
			User: d.rcpt, Ids: d.dups, SeenUnix: now.Unix(), ExpiresUnix: now.Add(period).Unix(),
		}}})
	}
	return out
}

// vacationReply is the auto-reply of RFC 5230 for d, when the sender may
// get one (RFC 3834 §2, RFC 5230 §4.5) and none is running for (user,
// handle, sender): the reply's body and VacationReplied, whose apply queues
// it only if still no record is running.
func (r *run) vacationReply(d decided, now time.Time, budget *int) []*evlog.Event {
	log := r.c.log.With("user", d.rcpt, "from", r.env.From)
	v := d.vacation
	if r.env.From == "" {
		// RFC 5230 §4.5, RFC 3834 §2: never to the null reverse-path.
		log.Debug("sieve vacation: no reply", "reason", "null sender")
		return nil
	}
	if r.c.cfg.Replies == nil {
		log.Warn("sieve vacation: no reply", "reason", "no reply builder configured")
		return nil
	}
	own := r.addresses(d.rcpt, r.envTo(d.rcpt))
	addrs := append(slices.Clone(own), v.Addresses...)
	if ok, why := r.c.cfg.Replies.ShouldReply(d.header, r.env.From, addrs); !ok {
		log.Info("sieve vacation: no reply", "reason", why)
		return nil
	}
	sender := strings.ToLower(r.env.From)
	handle := v.Handle
	if handle == "" {
		handle = derivedHandle(v)
	}
	if rec := r.c.cfg.Records; rec != nil {
		running, err := rec.VacationReplied(d.rcpt, handle, sender, now)
		if err != nil {
			log.Warn("sieve vacation: reading the replies", "err", err)
		}
		if running {
			log.Debug("sieve vacation: no reply", "reason", "already replied")
			return nil
		}
	}
	msg, err := r.c.cfg.Replies.Vacation(VacationReply{
		User: d.rcpt, To: r.env.From, Header: d.header, Vacation: v, Addresses: own, Now: now,
	})
	if err != nil {
		log.Warn("sieve vacation: no reply", "reason", "compose", "err", err)
		return nil
	}
	blob, queued, ok := r.replyEvents(msg, d.rcpt, now, budget)
	if !ok {
		log.Warn("sieve vacation: no reply", "reason", "too large", "size", len(msg), "limit", maxOneReply)
		return nil
	}
	period := vacationPeriod(v.Period)
	log.Info("sieve vacation reply", "size", len(msg))
	return []*evlog.Event{blob, {Kind: &evlog.Event_VacationReplied{VacationReplied: &evlog.VacationReplied{
		User: d.rcpt, Sender: sender, Handle: handle,
		RepliedUnix: now.Unix(), ExpiresUnix: now.Add(period).Unix(), Reply: queued,
	}}}}
}

// rejection is the MDN of RFC 5429 §2.1.2 for a rejecting recipient of a
// message that is accepted for others: its body and its Queued.
func (r *run) rejection(d decided, now time.Time, budget *int) []*evlog.Event {
	log := r.c.log.With("user", d.rcpt, "from", r.env.From)
	if r.env.From == "" {
		// RFC 5429 §2.1.2 (and RFC 3834 §2): none to the null sender.
		log.Info("sieve reject: no rejection sent", "reason", "null sender")
		return nil
	}
	if r.c.cfg.Replies == nil {
		log.Warn("sieve reject: no rejection sent", "reason", "no reply builder configured")
		return nil
	}
	msg, err := r.c.cfg.Replies.Rejection(Rejection{
		User: d.rcpt, Recipient: r.envTo(d.rcpt), To: r.env.From, Reason: d.reject.Reason,
		Header: cutHeader(d.header, maxMDNHeader), Now: now,
	})
	if err != nil {
		log.Warn("sieve reject: no rejection sent", "reason", "compose", "err", err)
		return nil
	}
	blob, queued, ok := r.replyEvents(msg, d.rcpt, now, budget)
	if !ok {
		log.Warn("sieve reject: no rejection sent", "reason", "too large", "size", len(msg), "limit", maxOneReply)
		return nil
	}
	log.Info("sieve reject: rejection queued to the sender", "size", len(msg))
	return []*evlog.Event{blob, {Kind: &evlog.Event_Queued{Queued: queued}}}
}

// replyEvents stores msg as one chunk and queues it to the envelope
// sender with the null reverse-path (RFC 3834 §3.3, RFC 5230 §5: no
// bounce of an auto-reply); false when it does not fit the budget.
func (r *run) replyEvents(msg []byte, user string, now time.Time, budget *int) (*evlog.Event, *evlog.Queued, bool) {
	if len(msg) > maxOneReply || len(msg) > *budget {
		return nil, nil, false
	}
	*budget -= len(msg)
	chunk := evlog.Chunks(msg)[0]
	id := make([]byte, 16)
	_, _ = rand.Read(id) // crypto/rand.Read never fails (Go 1.24)
	q := &evlog.Queued{
		Id: id, Blob: chunk.Hash, Size: chunk.Size, MailFrom: "",
		Recipients: []*evlog.QueueRecipient{{Address: r.env.From}},
		QueuedUnix: now.Unix(), ExpiresUnix: now.Add(r.c.cfg.ReplyLifetime).Unix(),
		Submitter: user,
	}
	return &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: chunk}}, q, true
}

// cutHeader is the header block h cut to at most n bytes at a field
// boundary, still ending in the empty line.
func cutHeader(h []byte, n int) []byte {
	if len(h) <= n {
		return h
	}
	fs, _ := fields(h)
	out := make([]byte, 0, n)
	for _, f := range fs {
		if len(out)+len(f)+2 > n {
			break
		}
		out = append(out, f...)
	}
	return append(out, '\r', '\n')
}

// envTo is the address the recipient was given as in RCPT TO.
func (r *run) envTo(rcpt string) string {
	if orig, ok := r.env.RcptTo[rcpt]; ok && orig != "" {
		return orig
	}
	return rcpt
}

// vacationPeriod clamps a script's :days or :seconds (RFC 5230 §4.1, RFC
// 6131 §2); zero is the default of 7 days.
func vacationPeriod(p time.Duration) time.Duration {
	if p <= 0 {
		return DefaultVacationPeriod
	}
	return min(max(p, MinVacationPeriod), MaxVacationPeriod)
}

// derivedHandle stands for :handle when the interpreter gave none (RFC
// 5230 §4.2: vacation actions with the same arguments share one).
func derivedHandle(v *sieve.Vacation) string {
	h := sha256.New()
	for _, s := range []string{v.Subject, v.From, v.Reason} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	if v.Mime {
		h.Write([]byte{1})
	}
	return "auto:" + hex.EncodeToString(h.Sum(nil)[:12])
}
