package outbound

import (
	"crypto/rand"
	"errors"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/smtp"
)

// DefaultLifetime is how long an entry is retried before it bounces (RFC
// 5321 §4.5.4.1: "at least 4-5 days").
const DefaultLifetime = 5 * 24 * time.Hour

// NOTIFY bits of log.QueueRecipient.notify (events.proto).
const (
	notifyNever   uint32 = 1
	notifySuccess uint32 = 2
	notifyFailure uint32 = 4
	notifyDelay   uint32 = 8
)

// Relay queues remote recipients: it implements smtp.Relay.
type Relay struct {
	// Lifetime is how long an entry is retried; 0: DefaultLifetime.
	Lifetime time.Duration
	// Now stamps the entry (the proposer's clock, docs/DESIGN.md invariant 2);
	// nil: time.Now.
	Now func() time.Time
	// Wake, if set, is called after a queueing proposal commits.
	Wake func()
}

var _ smtp.Relay = (*Relay)(nil)

// QueueEvents returns the Queued event for m.
func (r *Relay) QueueEvents(m smtp.Outbound) ([]*evlog.Event, error) {
	if len(m.Recipients) == 0 {
		return nil, errors.New("outbound: no recipients")
	}
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	lifetime := r.Lifetime
	if lifetime <= 0 {
		lifetime = DefaultLifetime
	}
	id, err := NewID()
	if err != nil {
		return nil, err
	}
	received := m.Received
	if received.IsZero() {
		received = now()
	}
	q := &evlog.Queued{
		Id: id, Blob: m.Blob, Size: m.Size, MailFrom: m.From, Envid: m.EnvID,
		Ret: smtp.DSNReturn(m.Return), QueuedUnix: received.Unix(),
		ExpiresUnix: received.Add(lifetime).Unix(), Submitter: m.User,
	}
	for i, a := range m.Recipients {
		qr := &evlog.QueueRecipient{Address: a}
		if i < len(m.Params) {
			qr.Notify = notifyBits(m.Params[i].Notify)
			qr.Orcpt = m.Params[i].ORCPT
			// RFC 8689: REQUIRETLS is the transaction's, given on MAIL.
			q.RequireTls = q.RequireTls || m.Params[i].RequireTLS
		}
		q.Recipients = append(q.Recipients, qr)
	}
	return []*evlog.Event{{Kind: &evlog.Event_Queued{Queued: q}}}, nil
}

// Queued is called by protocols/smtp after a queueing proposal commits.
func (r *Relay) Queued() {
	if r.Wake != nil {
		r.Wake()
	}
}

// NewID is a fresh 16-byte queue id.
func NewID() ([]byte, error) {
	id := make([]byte, 16)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	return id, nil
}

func notifyBits(values []string) uint32 {
	var n uint32
	for _, v := range values {
		switch strings.ToUpper(v) {
		case "NEVER":
			n |= notifyNever
		case "SUCCESS":
			n |= notifySuccess
		case "FAILURE":
			n |= notifyFailure
		case "DELAY":
			n |= notifyDelay
		}
	}
	if n&notifyNever != 0 {
		return notifyNever // RFC 3461 §4.1: NEVER stands alone
	}
	return n
}

// notifyNames is the inverse of notifyBits, for passing NOTIFY on.
func notifyNames(n uint32) []string {
	if n == 0 {
		return nil
	}
	if n&notifyNever != 0 {
		return []string{"NEVER"}
	}
	var out []string
	for _, f := range []struct {
		bit  uint32
		name string
	}{{notifySuccess, "SUCCESS"}, {notifyFailure, "FAILURE"}, {notifyDelay, "DELAY"}} {
		if n&f.bit != 0 {
			out = append(out, f.name)
		}
	}
	return out
}

// wantsFailureDSN: NOTIFY absent means FAILURE (RFC 3461 §4.1).
func wantsFailureDSN(n uint32) bool { return n == 0 || n&notifyFailure != 0 }

func wantsSuccessDSN(n uint32) bool { return n&notifySuccess != 0 }

// wantsDelayDSN: NOTIFY=DELAY, or no NOTIFY, which RFC 3461 §4.1 lets an
// MTA read as FAILURE,DELAY.
func wantsDelayDSN(n uint32) bool { return n == 0 || n&notifyDelay != 0 }
