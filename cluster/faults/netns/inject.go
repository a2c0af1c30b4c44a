//go:build linux

package netns

import (
	"context"
	"errors"
	"fmt"
)

// errClosed is returned by fault changes after Close.
var errClosed = errors.New("netns: topology is closed")

// changeFaults applies edit to a copy of the fault state, loads the result
// into the switch and keeps it only if nft accepted it.
func (t *Topology) changeFaults(ctx context.Context, edit func(*faultState) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.closed {
		return errClosed
	}
	next := t.faults.clone()
	if err := edit(&next); err != nil {
		return err
	}
	if err := runNFT(ctx, t.swNS, renderFaults(t.Nodes(), next)); err != nil {
		return fmt.Errorf("netns: load fault rules: %w", err)
	}
	t.faults = next
	return nil
}

// Isolate cuts nodes off from every other node, in both directions, until
// Heal. Isolations add up: Isolate("h1") then Isolate("h2") isolates both.
func (t *Topology) Isolate(ctx context.Context, names ...string) error {
	for _, name := range names {
		if _, err := t.node(name); err != nil {
			return err
		}
	}
	err := t.changeFaults(ctx, func(s *faultState) error {
		for _, name := range names {
			s.isolated[name] = true
		}
		return nil
	})
	if err == nil {
		t.log.Info("netns: isolate", "nodes", names)
	}
	return err
}

// Split partitions the network: a node reaches exactly the nodes of its own
// group. Every node, clients included, must be named exactly once, e.g.
// Split(ctx, []string{"h1"}, []string{"h2", "h3", "c1"}). A new Split
// replaces the previous one; isolations and losses stay.
func (t *Topology) Split(ctx context.Context, groups ...[]string) error {
	if err := validateSplit(t.Nodes(), groups); err != nil {
		return err
	}
	err := t.changeFaults(ctx, func(s *faultState) error {
		s.groups = nil
		for _, g := range groups {
			s.groups = append(s.groups, append([]string(nil), g...))
		}
		return nil
	})
	if err == nil {
		t.log.Info("netns: split", "groups", groups)
	}
	return err
}

// Loss drops percent of all frames crossing the switch (each direction of
// every link; ARP is never lost); 0 removes it. It replaces only the all-links
// loss set by an earlier Loss, not LossBetween rules.
func (t *Topology) Loss(ctx context.Context, percent int) error {
	return t.setLoss(ctx, link{}, percent)
}

// LossBetween drops percent of the frames that from sends to to, in that
// direction only; "" for from or to means any node, so LossBetween(ctx, "h1",
// "", 50) loses half of everything h1 sends. 0 removes the rule.
func (t *Topology) LossBetween(ctx context.Context, from, to string, percent int) error {
	for _, name := range []string{from, to} {
		if name == "" {
			continue
		}
		if _, err := t.node(name); err != nil {
			return err
		}
	}
	return t.setLoss(ctx, link{from: from, to: to}, percent)
}

func (t *Topology) setLoss(ctx context.Context, l link, percent int) error {
	if percent < 0 || percent > 100 {
		return fmt.Errorf("netns: loss %d%%: want 0–100", percent)
	}
	err := t.changeFaults(ctx, func(s *faultState) error {
		if percent == 0 {
			delete(s.loss, l)
		} else {
			s.loss[l] = percent
		}
		return nil
	})
	if err == nil {
		t.log.Info("netns: loss", "from", l.from, "to", l.to, "percent", percent)
	}
	return err
}

// Heal removes every fault: isolations, the split, losses and delays. TCP
// connections that were relayed for a delay stay open and flow without delay;
// new connections go direct.
func (t *Topology) Heal(ctx context.Context) error {
	err := t.changeFaults(ctx, func(s *faultState) error {
		*s = faultState{}
		return nil
	})
	if err != nil {
		return err
	}
	if err := t.clearDelays(ctx); err != nil {
		return err
	}
	t.log.Info("netns: healed")
	return nil
}
