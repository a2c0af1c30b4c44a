package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// peerStats is what a node reports of itself over the stats stream; the
// leader's autopilot and every node's Status use it.
type peerStats struct {
	ID            string `json:"id"`
	State         string `json:"state"`
	LastIndex     uint64 `json:"last_index"`
	LastTerm      uint64 `json:"last_term"`
	CommitIndex   uint64 `json:"commit_index"`
	AppliedIndex  uint64 `json:"applied_index"`
	LastContactMS int64  `json:"last_contact_ms"` // -1: never, 0: is leader
	// StorageLow: below its free space threshold, so not a leader to
	// hand over to (diskguard.go). Absent from older nodes: false.
	StorageLow bool `json:"storage_low,omitempty"`
}

func (n *Node) localStats() peerStats {
	s := n.raft.Stats()
	num := func(k string) uint64 { v, _ := strconv.ParseUint(s[k], 10, 64); return v }
	contact := int64(-1)
	switch lc := s["last_contact"]; lc {
	case "never":
	case "0":
		contact = 0
	default:
		if d, err := time.ParseDuration(lc); err == nil {
			contact = d.Milliseconds()
		}
	}
	return peerStats{
		ID:            n.cfg.NodeID,
		State:         stateName(n.raft.State()),
		LastIndex:     num("last_log_index"),
		LastTerm:      num("last_log_term"),
		CommitIndex:   num("commit_index"),
		AppliedIndex:  n.sm.AppliedIndex(),
		LastContactMS: contact,
		StorageLow:    n.guard.refusing(),
	}
}

func stateName(s raft.RaftState) string {
	switch s {
	case raft.Leader:
		return "leader"
	case raft.Candidate:
		return "candidate"
	case raft.Shutdown:
		return "shutdown"
	default:
		return "follower"
	}
}

func (n *Node) serveStats(conn net.Conn) {
	defer conn.Close()
	_ = conn.SetWriteDeadline(time.Now().Add(2 * time.Second))
	_ = json.NewEncoder(conn).Encode(n.localStats())
}

// fetchStats asks a peer for its stats over the cluster port.
func (n *Node) fetchStats(ctx context.Context, addr string) (peerStats, error) {
	timeout := time.Second
	if d, ok := ctx.Deadline(); ok {
		timeout = min(timeout, time.Until(d))
	}
	conn, err := n.mux.dial(addr, streamStats, timeout)
	if err != nil {
		return peerStats{}, err
	}
	defer conn.Close()
	_ = conn.SetReadDeadline(time.Now().Add(timeout))
	var st peerStats
	if err := json.NewDecoder(conn).Decode(&st); err != nil {
		return peerStats{}, fmt.Errorf("read stats from %s: %w", addr, err)
	}
	return st, nil
}

// Status is this node's view of the cluster: the Raft configuration, with
// each member's state and applied index asked of the member itself
// (bounded by ctx); a member that does not answer is down.
func (n *Node) Status(ctx context.Context) Status {
	_, leaderID := n.raft.LeaderWithID()
	st := Status{Leader: string(leaderID), Self: n.cfg.NodeID, Members: []Member{}}
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return st
	}
	servers := future.Configuration().Servers
	members := make([]Member, len(servers))
	var wg sync.WaitGroup
	for i, srv := range servers {
		members[i] = Member{ID: string(srv.ID), RaftAddr: string(srv.Address), Voter: srv.Suffrage == raft.Voter}
		wg.Add(1)
		go func(m *Member, addr string) {
			defer wg.Done()
			var ps peerStats
			if m.ID == n.cfg.NodeID {
				ps = n.localStats()
			} else {
				var err error
				if ps, err = n.fetchStats(ctx, addr); err != nil {
					m.State = StateDown
					return
				}
			}
			m.AppliedIndex = ps.AppliedIndex
			switch {
			case m.ID == st.Leader:
				m.State = StateLeader
			case ps.State == "candidate":
				m.State = StateCandidate
			case ps.State == "shutdown":
				m.State = StateDown
			default:
				m.State = StateFollower
			}
		}(&members[i], string(srv.Address))
	}
	wg.Wait()
	st.Members = members
	return st
}

// Ready reports whether this node knows a leader, has applied everything
// it has heard is committed, and has the disk space to take writes.
func (n *Node) Ready() bool { return n.NotReadyReason() == "" }

// NotReadyReason says why the node is not ready, or "" when it is.
func (n *Node) NotReadyReason() string {
	if why := n.lagReason(); why != "" {
		return why
	}
	if n.guard.refusing() {
		return "low disk space: " + n.guard.describe()
	}
	return ""
}
