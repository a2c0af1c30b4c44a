package spam

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
	"github.com/surat-mail/surat/protocols/spam/bayes"
)

// Judgement is what a user's action says about a message.
type Judgement int

const (
	// Neutral says nothing: no training.
	Neutral Judgement = iota
	// Spam: the message is spam (moved, copied or appended into Junk).
	Spam
	// Ham: the message is not spam (moved or copied out of Junk).
	Ham
)

func (j Judgement) String() string {
	switch j {
	case Spam:
		return "spam"
	case Ham:
		return "ham"
	}
	return "neutral"
}

// RFC 6154 special-use attributes that training looks at.
const (
	junkUse  = `\Junk`
	trashUse = `\Trash`
)

// Filing is what filing a message from a mailbox with special use from
// into one with special use to says (both "" for ordinary mailboxes; from
// is "" for APPEND): into \Junk, spam; out of \Junk into anything but
// \Trash, ham; anything else, nothing.
func Filing(from, to string) Judgement {
	switch {
	case to == junkUse && from != junkUse:
		return Spam
	case from == junkUse && to != junkUse && to != trashUse:
		return Ham
	}
	return Neutral
}

// MaxTrainPerCommand bounds the messages one IMAP command trains (the
// rest are logged, not trained), so that moving 10,000 messages into Junk
// does not hold the command's reply while 10,000 bodies are read.
const MaxTrainPerCommand = 100

// MaxBatchTokens bounds the token hashes of one proposal (8 bytes each on
// the wire): a few hundred messages at most, well under the cluster's
// proposal limit and near log.ChunkSize.
const MaxBatchTokens = evlog.ChunkSize / 8

// Event is the SpamTrained event for one message read from body: user ""
// is the global model. A Ham judgement retrains (package doc).
func Event(user string, j Judgement, body io.Reader, now time.Time) (*evlog.Event, error) {
	if j == Neutral {
		return nil, errors.New("spam: no judgement to train")
	}
	tokens, err := bayes.Tokenize(body)
	if err != nil {
		return nil, fmt.Errorf("spam: tokenize: %w", err)
	}
	return bayes.TrainEvent(user, j == Spam, j == Ham && user != "", tokens, now), nil
}

// Batches splits events into proposals of at most MaxBatchTokens token
// hashes each (a message with more goes alone).
func Batches(events []*evlog.Event) [][]*evlog.Event {
	var out [][]*evlog.Event
	var cur []*evlog.Event
	n := 0
	for _, e := range events {
		k := len(e.GetSpamTrained().GetTokens())
		if len(cur) > 0 && n+k > MaxBatchTokens {
			out = append(out, cur)
			cur, n = nil, 0
		}
		cur = append(cur, e)
		n += k
	}
	if len(cur) > 0 {
		out = append(out, cur)
	}
	return out
}

// Propose proposes events in Batches, one after the other, and returns
// how many events were committed before the first failure.
func Propose(ctx context.Context, p propose.Proposer, events []*evlog.Event) (int, error) {
	done := 0
	for _, b := range Batches(events) {
		if _, err := propose.Submit(ctx, p, b...); err != nil {
			return done, err
		}
		done += len(b)
	}
	return done, nil
}

// BodyStore reads stored messages (*mailbox.Store has it).
type BodyStore interface {
	Message(mailboxID uint64, uid uint32) (*evlog.MessageRecord, error)
	BlobReader(hash []byte) (io.ReadCloser, error)
}

// Learner trains users' models from their mailbox changes (package doc).
// The IMAP server calls it after a COPY, MOVE or APPEND has committed.
type Learner struct {
	Store    BodyStore        // required
	Proposer propose.Proposer // required
	Logger   *slog.Logger
	Now      func() time.Time
	// Max bounds the messages one call trains; zero: MaxTrainPerCommand.
	Max int
	// Timeout bounds one call's proposals; zero: 30 s.
	Timeout time.Duration
}

func (l *Learner) logger() *slog.Logger {
	if l.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return l.Logger
}

func (l *Learner) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

func (l *Learner) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	t := l.Timeout
	if t <= 0 {
		t = 30 * time.Second
	}
	return context.WithTimeout(ctx, t)
}

// TrainingEvents returns the SpamTrained events that filing the messages
// uids of mailbox (where they are now) teaches user's model, at most max
// of them (the count of the others is returned as skipped). Messages gone
// meanwhile are skipped silently; an unreadable body is an error.
func TrainingEvents(ctx context.Context, store BodyStore, user string, j Judgement, mailboxID uint64, uids []uint32, max int, now time.Time) (events []*evlog.Event, skipped int, err error) {
	if j == Neutral || len(uids) == 0 {
		return nil, 0, nil
	}
	if len(uids) > max {
		uids, skipped = uids[:max], len(uids)-max
	}
	for _, uid := range uids {
		if err := ctx.Err(); err != nil {
			return events, skipped, err
		}
		m, err := store.Message(mailboxID, uid)
		if err != nil {
			continue // expunged since
		}
		rc, err := store.BlobReader(m.GetBlob())
		if err != nil {
			return events, skipped, fmt.Errorf("spam: read message %d/%d: %w", mailboxID, uid, err)
		}
		e, err := Event(user, j, rc, now)
		rc.Close()
		if err != nil {
			return events, skipped, fmt.Errorf("spam: message %d/%d: %w", mailboxID, uid, err)
		}
		events = append(events, e)
	}
	return events, skipped, nil
}

// Filed trains user's model after messages were moved or copied from a
// mailbox with special use from into mailbox to (its id and special use),
// where they now have uids. It logs its failures and returns nothing: the
// filing has committed and stays, whatever training does.
func (l *Learner) Filed(ctx context.Context, user, from string, to *evlog.MailboxRecord, uids []uint32) {
	j := Filing(from, to.GetSpecialUse())
	if j == Neutral {
		return
	}
	max := l.Max
	if max <= 0 {
		max = MaxTrainPerCommand
	}
	ctx, cancel := l.bound(ctx)
	defer cancel()
	log := l.logger().With("user", user, "mailbox", to.GetName())
	events, skipped, err := TrainingEvents(ctx, l.Store, user, j, to.GetId(), uids, max, l.now())
	if err != nil {
		log.Warn("spam training failed", "result", j.String(), "err", err)
	}
	if skipped > 0 {
		log.Info("spam training skipped", "result", j.String(), "count", skipped, "limit", max)
	}
	l.propose(ctx, log, j, events)
}

// Appended trains user's model after body was appended to a mailbox with
// special use to: spam into \Junk, nothing elsewhere.
func (l *Learner) Appended(ctx context.Context, user, to string, body []byte) {
	j := Filing("", to)
	if j == Neutral {
		return
	}
	ctx, cancel := l.bound(ctx)
	defer cancel()
	log := l.logger().With("user", user)
	e, err := Event(user, j, bytesReader(body), l.now())
	if err != nil {
		log.Warn("spam training failed", "result", j.String(), "err", err)
		return
	}
	l.propose(ctx, log, j, []*evlog.Event{e})
}

func (l *Learner) propose(ctx context.Context, log *slog.Logger, j Judgement, events []*evlog.Event) {
	if len(events) == 0 {
		return
	}
	n, err := Propose(ctx, l.Proposer, events)
	if err != nil {
		log.Warn("spam training failed", "result", j.String(), "count", len(events)-n, "err", err)
	}
	if n > 0 {
		log.Info("spam trained", "result", j.String(), "count", n)
	}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
