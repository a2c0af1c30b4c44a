package smtp

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"strings"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// data receives the message and delivers it (RFC 5321 §4.1.1.4). Its
// return is the reply to the end of data: 250 only once the delivery is
// committed and applied here (docs/DESIGN.md invariant 1).
func (s *session) data(r io.Reader) error {
	body, err := readMessage(r, s.srv.cfg.MaxMessageSize)
	if err != nil {
		se := replyFor(err)
		s.log.Info("smtp message refused", "from", s.from, "rcpt", s.rcptCount, "code", se.Code, "reason", se.Message)
		return se
	}
	id := newID()
	now := s.srv.cfg.Now()
	t := trace{
		Helo: s.conn.Hostname(), RemoteIP: s.remote, Host: s.srv.cfg.Hostname,
		TLS: s.tls, Auth: s.user != "", UTF8: s.utf8, ID: id, Date: now,
	}
	if st, ok := s.conn.TLSConnectionState(); ok {
		t.TLSInfo = tls.VersionName(st.Version) + " " + tls.CipherSuiteName(st.CipherSuite)
	}
	if s.rcptCount == 1 {
		t.For = s.firstRcpt // RFC 5321 §4.4: only when there is one recipient
	}
	stored := storedMessage(s.from, t, body)
	msgID := headerValue(body, "Message-ID")
	log := s.log.With("id", id, "from", s.from, "rcpt", s.rcptCount, "size", len(stored), "msgid", msgID)

	ctx, cancel := context.WithTimeout(context.Background(), s.srv.cfg.ProposeTimeout)
	defer cancel()
	skipped, err := s.srv.deliver(ctx, delivery{
		from: s.from, user: s.user, local: s.local, nonLocal: s.nonLocal, body: stored, date: now,
		params: s.params, envID: s.envID, ret: s.ret,
	})
	if err != nil {
		se := replyFor(err)
		level := log.Info
		if se.Code/100 == 4 {
			level = log.Warn
		}
		level("smtp delivery failed", "code", se.Code, "err", err)
		return se
	}
	if len(skipped) > 0 {
		if len(skipped) == len(s.local) && len(s.nonLocal) == 0 {
			se := skippedReply(skipped)
			log.Info("smtp delivery refused at apply", "skipped", describeSkipped(skipped), "code", se.Code)
			return se
		}
		// SMTP has one reply for all recipients after DATA (per-recipient
		// replies exist only in LMTP, RFC 2033 §4.2): the others got it,
		// so the message is accepted, and apply queued a DSN to the
		// sender for the skipped ones in the same commit (RFC 3464; as
		// Postfix does when its local delivery agent refuses a recipient).
		log.Warn("smtp delivered with recipients skipped at apply; DSN queued to the sender", "skipped", describeSkipped(skipped))
	}
	log.Info("smtp delivered", "local", len(s.local), "relayed", len(s.nonLocal), "raft_index", s.srv.appliedIndex())
	return nil
}

// delivery is one accepted message on its way to the log.
type delivery struct {
	// from is the envelope sender: the DSN for recipients apply skips
	// goes there (empty: the null reverse-path, no DSN).
	from, user string
	local      []string // canonical users
	nonLocal   []string
	params     []RecipientParams // DSN parameters of nonLocal
	envID, ret string
	body       []byte // as stored
	date       time.Time
}

// deliver proposes the message: every chunk but the last in a proposal of
// its own, then the last chunk with the Delivered event (and the Relay's
// events) in ONE proposal, so that one commit makes the message visible to
// all its recipients at once. It returns the recipients apply skipped,
// with apply's reason for each.
func (s *Server) deliver(ctx context.Context, d delivery) (skipped []*evlog.SkippedRecipient, err error) {
	chunks := evlog.Chunks(d.body)
	last := chunks[len(chunks)-1]
	for _, c := range chunks[:len(chunks)-1] {
		// docs/DESIGN.md invariant 4: no Raft entry exceeds a fixed bound.
		if _, err := propose.Submit(ctx, s.cfg.Proposer, &evlog.Event{Kind: &evlog.Event_BlobStored{BlobStored: c}}); err != nil {
			return nil, fmt.Errorf("store chunk %d/%d: %w", c.Chunk+1, c.Chunks, err)
		}
	}
	events := []*evlog.Event{{Kind: &evlog.Event_BlobStored{BlobStored: last}}}
	deliveredAt := -1
	if len(d.local) > 0 {
		_, offset := d.date.Zone()
		rcpts := make([]*evlog.Recipient, 0, len(d.local))
		for _, u := range d.local {
			rcpts = append(rcpts, &evlog.Recipient{Address: u})
		}
		deliveredAt = len(events)
		events = append(events, &evlog.Event{Kind: &evlog.Event_Delivered{Delivered: &evlog.Delivered{
			Blob: last.Hash, Size: last.Size, Recipients: rcpts,
			InternalDateUnix: d.date.Unix(), InternalDateOffset: int32(offset),
			// For the DSN of a recipient apply cannot deliver to.
			ReturnPath: d.from, Envid: d.envID, Ret: DSNReturn(d.ret), Relayed: len(d.nonLocal) > 0,
		}}})
	}
	if len(d.nonLocal) > 0 {
		if s.cfg.Relay == nil {
			return nil, errNoRelay
		}
		queued, err := s.cfg.Relay.QueueEvents(Outbound{
			From: d.from, Recipients: d.nonLocal, Blob: last.Hash, Size: last.Size, Received: d.date, User: d.user,
			EnvID: d.envID, Return: d.ret, Params: d.params,
		})
		if err != nil {
			return nil, fmt.Errorf("relay: %w", err)
		}
		s.stampSendLimits(queued)
		events = append(events, queued...)
	}
	out, err := propose.Submit(ctx, s.cfg.Proposer, events...)
	if err != nil {
		return nil, err
	}
	if len(d.nonLocal) > 0 {
		if n, ok := s.cfg.Relay.(interface{ Queued() }); ok {
			n.Queued() // wake the queue worker (when it runs on this node)
		}
	}
	if deliveredAt >= 0 && deliveredAt < len(out.GetResults()) {
		r := out.GetResults()[deliveredAt]
		skipped = r.GetSkippedRecipients()
		if len(skipped) == 0 {
			// An apply from before reasons were reported.
			for _, a := range r.GetSkipped() {
				skipped = append(skipped, &evlog.SkippedRecipient{Address: a})
			}
		}
	}
	return skipped, nil
}

// skippedReply answers the end of DATA when apply delivered to none of the
// recipients, from apply's reasons (the directory is not read again: it
// may have changed since). A recipient over its quota makes it 452 4.2.2,
// temporary, as at RCPT (quota.go): the user may make room, and the
// sender's retry then meets the RCPT check. Only when every recipient was
// deleted since RCPT is it 550 5.1.1. A reason this build does not know
// (or none, from an older apply) is 451: the sender keeps the message.
func skippedReply(skipped []*evlog.SkippedRecipient) *gosmtp.SMTPError {
	reply := errNoSuchUser
	for _, r := range skipped {
		switch r.GetReason() {
		case evlog.ErrorCode_ERROR_CODE_OVER_QUOTA:
			return errMailboxFull
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER:
		default:
			reply = errTemporary
		}
	}
	return reply
}

// describeSkipped is skipped recipients with their reasons, for the log.
func describeSkipped(skipped []*evlog.SkippedRecipient) []string {
	out := make([]string, len(skipped))
	for i, r := range skipped {
		out[i] = r.GetAddress() + " (" + r.GetReason().String() + ")"
	}
	return out
}

// DSNReturn is RET (RFC 3461 §4.3), as MAIL gave it, as the events carry
// it (the outbound queue's Relay uses it too).
func DSNReturn(ret string) evlog.DsnReturn {
	switch strings.ToUpper(ret) {
	case "FULL":
		return evlog.DsnReturn_DSN_RETURN_FULL
	case "HDRS":
		return evlog.DsnReturn_DSN_RETURN_HEADERS
	}
	return evlog.DsnReturn_DSN_RETURN_UNSPECIFIED
}

// appliedIndex is this node's applied Raft index when the Directory knows
// it (*mailbox.Store does), read right after the commit: the delivery's
// entry is at or below it (Propose does not report the entry's own index).
func (s *Server) appliedIndex() uint64 {
	if a, ok := s.cfg.Directory.(interface{ AppliedIndex() uint64 }); ok {
		return a.AppliedIndex()
	}
	return 0
}
