package netns

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

const (
	// faultTable is the switch namespace's nftables table. The chain is not
	// called "fwd" or "forward": those are nft keywords.
	faultTable = "surat_faults"
	faultChain = "drop_frames"
)

// link is one direction between two switch ports; "" matches any port.
type link struct{ from, to string }

// faultState is every drop and loss rule in force at the switch. It is a
// value: a change builds a new state, loads it, and is kept only once nft
// has accepted it, so a failed change leaves the old rules and the old state
// in agreement.
type faultState struct {
	isolated map[string]bool
	groups   [][]string // the current Split; nil if none
	loss     map[link]int
}

func (s faultState) clone() faultState {
	c := faultState{isolated: maps.Clone(s.isolated), loss: maps.Clone(s.loss)}
	for _, g := range s.groups {
		c.groups = append(c.groups, slices.Clone(g))
	}
	if c.isolated == nil {
		c.isolated = make(map[string]bool)
	}
	if c.loss == nil {
		c.loss = make(map[link]int)
	}
	return c
}

// validateSplit checks that groups name every node exactly once.
func validateSplit(nodes []string, groups [][]string) error {
	seen := make(map[string]int) // node → group index
	known := make(map[string]bool)
	for _, n := range nodes {
		known[n] = true
	}
	for gi, g := range groups {
		if len(g) == 0 {
			return fmt.Errorf("netns: split: group %d is empty", gi+1)
		}
		for _, n := range g {
			if !known[n] {
				return fmt.Errorf("netns: split: unknown node %q (have %s)", n, strings.Join(nodes, ", "))
			}
			if prev, dup := seen[n]; dup {
				return fmt.Errorf("netns: split: %s is in groups %d and %d", n, prev+1, gi+1)
			}
			seen[n] = gi
		}
	}
	for _, n := range nodes {
		if _, ok := seen[n]; !ok {
			// A node left out could mean "alone" or "reaches everyone";
			// guessing would make a test say what it did not mean.
			return fmt.Errorf("netns: split: %s is in no group; name every node", n)
		}
	}
	return nil
}

// renderFaults is the nft script that replaces the switch's fault table with
// state's rules. Declaring the table, deleting it and declaring it again in
// one script makes the swap atomic and works whether or not it existed.
// Rules come out in a fixed order so the same state always gives the same
// script.
func renderFaults(nodes []string, s faultState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table bridge %s\ndelete table bridge %s\n", faultTable, faultTable)
	var rules []string
	for _, n := range nodes {
		if s.isolated[n] {
			rules = append(rules, fmt.Sprintf("iifname %q drop", n), fmt.Sprintf("oifname %q drop", n))
		}
	}
	if len(s.groups) > 1 {
		group := make(map[string]int)
		for gi, g := range s.groups {
			for _, n := range g {
				group[n] = gi
			}
		}
		for _, from := range nodes {
			for _, to := range nodes {
				if from != to && group[from] != group[to] {
					rules = append(rules, fmt.Sprintf("iifname %q oifname %q drop", from, to))
				}
			}
		}
	}
	links := slices.SortedFunc(maps.Keys(s.loss), func(a, b link) int {
		if c := strings.Compare(a.from, b.from); c != 0 {
			return c
		}
		return strings.Compare(a.to, b.to)
	})
	for _, l := range links {
		var match string
		if l.from != "" {
			match += fmt.Sprintf("iifname %q ", l.from)
		}
		if l.to != "" {
			match += fmt.Sprintf("oifname %q ", l.to)
		}
		if s.loss[l] == 100 {
			// nft rejects "< 100": the value must fit the 0–99 range.
			rules = append(rules, match+"drop")
			continue
		}
		// numgen draws 0–99 per frame: "< N" drops N% of them.
		rules = append(rules, fmt.Sprintf("%snumgen random mod 100 < %d drop", match, s.loss[l]))
	}
	if len(rules) == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, "table bridge %s {\n\tchain %s {\n", faultTable, faultChain)
	b.WriteString("\t\ttype filter hook forward priority 0; policy accept;\n")
	// ARP always passes: the faults are IP faults. Dropping ARP would turn a
	// one-way fault into a two-way one as soon as a neighbour entry went
	// stale (the reply to a re-probe travels the cut direction), and would
	// leave Heal waiting for failed neighbour entries to be retried.
	b.WriteString("\t\tether type arp accept\n")
	for _, r := range rules {
		b.WriteString("\t\t" + r + "\n")
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}
