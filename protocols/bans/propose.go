package bans

import (
	"context"
	"net/netip"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// New is the BanAdded event for p (canonical, as evlog.BanPrefix gives it),
// stamped with the proposer's now; d == 0 bans for good.
func New(p netip.Prefix, reason, source string, now time.Time, d time.Duration) *evlog.Event {
	e := &evlog.BanAdded{Prefix: p.String(), Reason: reason, Source: source, CreatedUnix: now.Unix()}
	if d > 0 {
		e.ExpiresUnix = max(now.Add(d).Unix(), e.CreatedUnix+1)
	}
	return &evlog.Event{Kind: &evlog.Event_BanAdded{BanAdded: e}}
}

// Ban proposes a ban of ip's prefix (its /32, or its /64 for IPv6) for d
// and waits until it is committed and applied here. It is the call an
// automatic policy (such as "N failed logins in T") makes.
func Ban(ctx context.Context, p propose.Proposer, ip netip.Addr, reason, source string, now time.Time, d time.Duration) error {
	prefix, err := evlog.BanPrefix(ip.Unmap().WithZone("").String())
	if err != nil {
		return err
	}
	_, err = propose.Submit(ctx, p, New(prefix, reason, source, now, d))
	return err
}
