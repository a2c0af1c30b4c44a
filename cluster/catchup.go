package cluster

import (
	"fmt"
	"strconv"
)

// CaughtUp reports whether this node knows a leader and has applied every
// entry it has heard is committed. Reads are local (DESIGN.md: reads never
// go through Raft), so until then an absence in this node's projections —
// an unknown recipient, an unknown user — may only mean "not applied yet":
// protocols answer it with a temporary error rather than a permanent one.
func (n *Node) CaughtUp() bool { return n.lagReason() == "" }

// lagReason says why the node is not caught up, or "" when it is.
func (n *Node) lagReason() string {
	if _, id := n.raft.LeaderWithID(); id == "" {
		return "no known leader"
	}
	// Raft's own applied index counts no-op entries too, which never reach
	// the state machine; everything up to it has been applied here.
	s := n.raft.Stats()
	commit, _ := strconv.ParseUint(s["commit_index"], 10, 64)
	applied, _ := strconv.ParseUint(s["applied_index"], 10, 64)
	if commit == 0 || applied < commit {
		return fmt.Sprintf("log not yet applied (applied %d of %d committed)", applied, commit)
	}
	return ""
}
