// Package greylist is greylisting (RFC 6647) for the MX port, replicated:
// a message whose (client network, envelope sender, recipient) triple is
// unseen gets 451 4.7.1 at the end of DATA, and passes when it comes back
// after the delay, through any node, because the triples are events
// (GreylistRecorded), not one node's table.
//
// The triple is the client's /24 (IPv4) or /64 (IPv6), so that a sender's
// pool of outbound servers retrying from a neighbouring address passes;
// the envelope sender lower-cased (the null sender of a DSN included, as
// Postgrey does: a real MTA retries its bounces too); and one local
// recipient. Its name is the first 16 bytes of a SHA-256, so the store
// holds no address. The check runs at the end of DATA, after the
// authentication checks (a pipeline.Follower), so that it can let in at
// once a sender it knows: a message whose DMARC passed (RFC 7489) for a
// From domain that has passed greylisting before (a "known sender"
// record, kept like a passed triple). Authenticated sessions and the
// submission ports are never greylisted.
//
// Outcomes, for a message with one or more recipients (SMTP has one
// reply for all of them after DATA, RFC 5321 §4.2.5):
//   - a triple unseen (or expired): 451, and GreylistRecorded for the new
//     triples (the SMTP server proposes a refused message's events);
//   - a triple seen less than Delay ago: 451 again, no event;
//   - every triple passed, or seen at least Delay ago: the message passes;
//     the triples not yet passed (and the From domain, when DMARC passed)
//     are recorded passed, in the delivery's proposal. A passed triple is
//     refreshed at most once a day as mail keeps coming, so a steady
//     correspondent costs no event per message.
//
// Unpassed triples expire after UnpassedTTL (default one day), passed ones
// after PassedTTL (35 days, as Postgrey's max-age); expiry is judged at
// read time, and Pruner (on the leader) proposes GreylistPruned so the
// table stays bounded. The package reads the store through Store and
// writes only through the events it returns.
package greylist

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// Defaults of Config.
const (
	DefaultUnpassedTTL = 24 * time.Hour
	DefaultPassedTTL   = 35 * 24 * time.Hour
	// refreshAfter: a passed triple is recorded again when it was last
	// recorded longer ago than this.
	refreshAfter = 24 * time.Hour
)

// Store is the store's view of the triples (*mailbox.Store has it).
type Store interface {
	// Greylisted returns what is known of a triple at now; expired
	// triples are unknown.
	Greylisted(triple []byte, now time.Time) (mailbox.GreylistEntry, bool, error)
}

// Config configures a Check.
type Config struct {
	Store Store         // required
	Delay time.Duration // required, > 0: how long a new triple waits
	// UnpassedTTL: how long an unpassed triple is kept; default
	// DefaultUnpassedTTL, at least twice Delay.
	UnpassedTTL time.Duration
	// PassedTTL: how long a passed triple (and a known sender) is kept
	// after its last record; default DefaultPassedTTL.
	PassedTTL time.Duration
	Now       func() time.Time // default time.Now
	Logger    *slog.Logger
}

// Check is the greylisting pipeline.Check.
type Check struct {
	cfg Config
}

// New returns a Check.
func New(cfg Config) (*Check, error) {
	if cfg.Store == nil {
		return nil, errors.New("greylist: no store")
	}
	if cfg.Delay <= 0 {
		return nil, errors.New("greylist: the delay must be positive")
	}
	if cfg.UnpassedTTL <= 0 {
		cfg.UnpassedTTL = DefaultUnpassedTTL
	}
	cfg.UnpassedTTL = max(cfg.UnpassedTTL, 2*cfg.Delay)
	if cfg.PassedTTL <= 0 {
		cfg.PassedTTL = DefaultPassedTTL
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Check{cfg: cfg}, nil
}

// Name names the check in logs.
func (c *Check) Name() string { return "greylist" }

// Start returns a run for unauthenticated mail on the MX port, nil
// otherwise.
func (c *Check) Start(_ context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if env.Submission || env.User != "" || len(env.Local) == 0 {
		return nil, nil
	}
	return &run{c: c, env: env}, nil
}

type run struct {
	c   *Check
	env pipeline.Envelope
}

// Write discards the message: the verdict depends on the envelope only.
func (r *run) Write(p []byte) (int, error) { return len(p), nil }

func (r *run) Abort() {}

// Finish is FinishAfter with nothing before it.
func (r *run) Finish(ctx context.Context) (pipeline.Outcome, error) {
	return r.FinishAfter(ctx, pipeline.Result{})
}

// FinishAfter judges the message's triples, knowing the earlier checks'
// facts (dmarc=pass, dmarc.from=DOMAIN).
func (r *run) FinishAfter(ctx context.Context, earlier pipeline.Result) (pipeline.Outcome, error) {
	if err := ctx.Err(); err != nil {
		return pipeline.Outcome{}, err
	}
	c, now := r.c, r.c.cfg.Now()
	var known []byte
	if v, _ := earlier.Fact("dmarc"); v == "pass" {
		if d, ok := earlier.Fact("dmarc.from"); ok && d != "" {
			known = KnownSender(d)
			e, ok, err := c.cfg.Store.Greylisted(known, now)
			if err != nil {
				return pipeline.Outcome{}, fmt.Errorf("greylist: %w", err)
			}
			if ok && e.Passed {
				o := pipeline.Outcome{Note: "greylist=known-sender"}
				if c.stale(e, now) {
					o.Events = []*evlog.Event{c.record(now, true, known)}
				}
				return o, nil
			}
		}
	}
	network := Network(r.env.RemoteIP)
	var unseen, pass [][]byte
	var wait time.Duration
	for _, rcpt := range r.env.Local {
		t := Triple(network, r.env.From, rcpt)
		e, ok, err := c.cfg.Store.Greylisted(t, now)
		if err != nil {
			return pipeline.Outcome{}, fmt.Errorf("greylist: %w", err)
		}
		switch {
		case !ok:
			unseen = append(unseen, t)
			wait = max(wait, c.cfg.Delay)
		case e.Passed:
			if c.stale(e, now) {
				pass = append(pass, t)
			}
		case now.Sub(e.FirstSeen) >= c.cfg.Delay:
			pass = append(pass, t)
		default:
			wait = max(wait, c.cfg.Delay-now.Sub(e.FirstSeen))
		}
	}
	if wait > 0 {
		secs := int64((wait + time.Second - 1) / time.Second)
		o := pipeline.Outcome{
			Action: pipeline.Refuse,
			// RFC 3463 §3.8: X.7.1, delivery not authorized (yet); the
			// client retries (RFC 5321 §4.5.4.1).
			Reply: &pipeline.Reply{Code: 451, Enhanced: [3]int{4, 7, 1},
				Text: fmt.Sprintf("Greylisted, try again in %d seconds", secs)},
			Note: "greylist=deferred",
		}
		if len(unseen) > 0 {
			o.Events = []*evlog.Event{c.record(now, false, unseen...)}
		}
		c.cfg.Logger.Info("greylist: message deferred", "remote", r.env.RemoteIP, "from", r.env.From,
			"rcpt", len(r.env.Local), "count", len(unseen), "retry_after", secs)
		return o, nil
	}
	if known != nil {
		pass = append(pass, known)
	}
	o := pipeline.Outcome{Note: "greylist=pass"}
	if len(pass) > 0 {
		o.Events = []*evlog.Event{c.record(now, true, pass...)}
	}
	return o, nil
}

// stale reports whether a passed record should be refreshed.
func (c *Check) stale(e mailbox.GreylistEntry, now time.Time) bool {
	return e.Expires.Sub(now) < c.cfg.PassedTTL-refreshAfter
}

func (c *Check) record(now time.Time, passed bool, triples ...[]byte) *evlog.Event {
	ttl := c.cfg.UnpassedTTL
	if passed {
		ttl = c.cfg.PassedTTL
	}
	return &evlog.Event{Kind: &evlog.Event_GreylistRecorded{GreylistRecorded: &evlog.GreylistRecorded{
		Triples: triples, SeenUnix: now.Unix(), Passed: passed, ExpiresUnix: now.Add(ttl).Unix()}}}
}

// Network is the part of the client's address a triple holds: its /24
// (IPv4) or /64 (IPv6); an address that does not parse is kept as it is.
func Network(remoteIP string) string {
	ip, err := netip.ParseAddr(remoteIP)
	if err != nil {
		return remoteIP
	}
	ip = ip.Unmap().WithZone("")
	bits := 24
	if ip.Is6() {
		bits = 64
	}
	return netip.PrefixFrom(ip, bits).Masked().String()
}

// Triple names one (network, sender, recipient) triple: 16 bytes of a
// SHA-256 over the three, the sender and recipient lower-cased.
func Triple(network, from, rcpt string) []byte {
	return name("triple", network, strings.ToLower(from), strings.ToLower(rcpt))
}

// KnownSender names the record of a From domain that passed greylisting
// with DMARC passing.
func KnownSender(domain string) []byte {
	return name("known-sender", strings.ToLower(strings.TrimSuffix(domain, ".")))
}

func name(parts ...string) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return h.Sum(nil)[:mailbox.GreylistTripleLen]
}
