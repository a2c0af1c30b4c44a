package cluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
	autopilot "github.com/hashicorp/raft-autopilot"
)

// nodeMeta is what every node publishes about itself through gossip
// (docs/DESIGN.md, invariant 7): its Raft identity and, when it was started with
// one, its --bootstrap-expect.
type nodeMeta struct {
	ID      string `json:"id"`
	Raft    string `json:"raft"`
	Expect  int    `json:"expect,omitempty"`
	Version int    `json:"v"`
}

const metaVersion = 1

// peer is a node this one has seen through gossip. Peers are never
// forgotten: a failed node keeps its entry until it comes back.
type peer struct {
	meta   nodeMeta
	gossip string
	status autopilot.NodeStatus
}

// gossip runs memberlist and keeps the peer table.
type gossip struct {
	n    *Node
	ml   *memberlist.Memberlist
	meta []byte

	mu    sync.Mutex
	peers map[string]*peer
	poke  chan struct{}
}

func startGossip(n *Node, key []byte) (*gossip, error) {
	host, portText, err := net.SplitHostPort(n.cfg.GossipAddr)
	if err != nil {
		return nil, fmt.Errorf("gossip address %q: %w", n.cfg.GossipAddr, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("gossip address %q: bad port", n.cfg.GossipAddr)
	}
	meta, err := json.Marshal(nodeMeta{ID: n.cfg.NodeID, Raft: n.cfg.RaftAddr, Expect: n.cfg.BootstrapExpect, Version: metaVersion})
	if err != nil {
		return nil, err
	}
	g := &gossip{n: n, meta: meta, peers: map[string]*peer{}, poke: make(chan struct{}, 1)}

	conf := memberlist.DefaultLANConfig()
	conf.Name = n.cfg.NodeID
	conf.BindAddr = host
	conf.BindPort = port
	conf.AdvertiseAddr = host
	conf.AdvertisePort = port
	conf.SecretKey = key // AES-GCM; a node with another key cannot join
	conf.GossipVerifyIncoming = true
	conf.GossipVerifyOutgoing = true
	conf.Delegate = g
	conf.Events = g
	conf.Logger = newStdLogger(n.log.With("component", "gossip"))
	// Quicker failure detection than the LAN default suits a mail cluster
	// on one switch; Raft decides leadership on its own timers anyway.
	conf.ProbeInterval = 500 * time.Millisecond
	conf.ProbeTimeout = 250 * time.Millisecond
	conf.GossipInterval = 100 * time.Millisecond
	ml, err := memberlist.Create(conf)
	if err != nil {
		return nil, fmt.Errorf("start gossip on %s: %w", n.cfg.GossipAddr, err)
	}
	g.ml = ml
	return g, nil
}

// memberlist.Delegate: only node metadata is used.

func (g *gossip) NodeMeta(limit int) []byte {
	if len(g.meta) > limit {
		return nil
	}
	return g.meta
}
func (g *gossip) NotifyMsg([]byte)                           {}
func (g *gossip) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (g *gossip) LocalState(join bool) []byte                { return nil }
func (g *gossip) MergeRemoteState(buf []byte, join bool)     {}

// memberlist.EventDelegate.

func (g *gossip) NotifyJoin(node *memberlist.Node)   { g.update(node, autopilot.NodeAlive) }
func (g *gossip) NotifyUpdate(node *memberlist.Node) { g.update(node, autopilot.NodeAlive) }
func (g *gossip) NotifyLeave(node *memberlist.Node) {
	status := autopilot.NodeFailed
	if node.State == memberlist.StateLeft {
		status = autopilot.NodeLeft
	}
	g.update(node, status)
}

func (g *gossip) update(node *memberlist.Node, status autopilot.NodeStatus) {
	var meta nodeMeta
	if err := json.Unmarshal(node.Meta, &meta); err != nil || meta.ID == "" || meta.ID != node.Name {
		g.n.log.Warn("ignoring gossip member with bad metadata", "member", node.Name, "remote", node.Address())
		return
	}
	g.mu.Lock()
	g.peers[meta.ID] = &peer{meta: meta, gossip: node.Address(), status: status}
	alive := 0
	for _, p := range g.peers {
		if p.status == autopilot.NodeAlive {
			alive++
		}
	}
	g.mu.Unlock()
	g.n.metrics.members.Set(float64(alive))
	g.n.log.Info("gossip member "+string(status), "member", meta.ID, "raft", meta.Raft)
	select {
	case g.poke <- struct{}{}:
	default:
	}
}

func (g *gossip) snapshot() map[string]peer {
	g.mu.Lock()
	defer g.mu.Unlock()
	out := make(map[string]peer, len(g.peers))
	for id, p := range g.peers {
		out[id] = *p
	}
	return out
}

func (g *gossip) shutdown() {
	// No Leave: a node that stops keeps its place in the cluster and
	// rejoins as itself (docs/OPERATING.md: SIGTERM leaves membership intact).
	if err := g.ml.Shutdown(); err != nil {
		g.n.log.Warn("gossip shutdown", "err", err)
	}
}

// runMembership joins the configured peers, bootstraps a new cluster once
// --bootstrap-expect servers see each other, and, on the leader, adds newly
// seen servers to the Raft configuration.
func (n *Node) runMembership(bootstrap bool) {
	defer n.wg.Done()
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	lastJoin := time.Time{}
	for {
		if time.Since(lastJoin) > 2*time.Second {
			if n.rejoin() {
				lastJoin = time.Now()
			}
		}
		if bootstrap && n.tryBootstrap() {
			bootstrap = false
		}
		if n.raft.State() == raft.Leader {
			n.reconcile()
		}
		select {
		case <-n.stop:
			return
		case <-n.gossip.poke:
		case <-tick.C:
		}
	}
}

// rejoin contacts the --join addresses and any known peer that gossip does
// not currently see, so that a cluster heals after a partition or after
// every other node restarted. It reports whether it tried.
func (n *Node) rejoin() bool {
	// The peer table, not memberlist.Members(): the latter hands out nodes
	// that memberlist keeps mutating.
	peers := n.gossip.snapshot()
	alive := map[string]bool{}
	for _, p := range peers {
		if p.status == autopilot.NodeAlive {
			alive[p.gossip] = true
		}
	}
	var targets []string
	for _, addr := range n.cfg.Join {
		if !alive[addr] && addr != n.cfg.GossipAddr {
			targets = append(targets, addr)
		}
	}
	for _, p := range peers {
		if p.status != autopilot.NodeAlive && !slices.Contains(targets, p.gossip) {
			targets = append(targets, p.gossip)
		}
	}
	if len(targets) == 0 {
		return false
	}
	if joined, err := n.gossip.ml.Join(targets); err != nil && joined == 0 {
		n.log.Debug("gossip join pending", "targets", targets, "err", err)
	}
	return true
}

// tryBootstrap forms a new cluster as Consul's bootstrap-expect does: when
// this node has no Raft state and sees enough servers, it bootstraps with
// the sorted list of all of them. Every node with the same expectation
// computes the same list, and identical bootstraps are harmless.
func (n *Node) tryBootstrap() bool {
	peers := n.gossip.snapshot()
	var servers []raft.Server
	for _, p := range peers {
		if p.status != autopilot.NodeAlive {
			continue
		}
		if p.meta.Expect != 0 && p.meta.Expect != n.cfg.BootstrapExpect {
			n.log.Error("members disagree on --bootstrap-expect; not bootstrapping",
				"member", p.meta.ID, "theirs", p.meta.Expect, "ours", n.cfg.BootstrapExpect)
			return false
		}
		servers = append(servers, raft.Server{Suffrage: raft.Voter, ID: raft.ServerID(p.meta.ID), Address: raft.ServerAddress(p.meta.Raft)})
	}
	if len(servers) < n.cfg.BootstrapExpect {
		return false
	}
	slices.SortFunc(servers, func(a, b raft.Server) int {
		return cmpString(string(a.ID), string(b.ID))
	})
	err := n.raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error()
	if err != nil && err != raft.ErrCantBootstrap {
		n.log.Error("bootstrap failed", "err", err)
		return false
	}
	n.log.Info("bootstrapped a new cluster", "servers", len(servers))
	return true
}

func cmpString(a, b string) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// reconcile runs on the leader: a live server that is not in the Raft
// configuration is added as a non-voter, and autopilot promotes it once it
// has caught up and stayed healthy. A known server whose address changed
// is updated in place.
func (n *Node) reconcile() {
	future := n.raft.GetConfiguration()
	if err := future.Error(); err != nil {
		return
	}
	inConfig := map[string]raft.Server{}
	for _, s := range future.Configuration().Servers {
		inConfig[string(s.ID)] = s
	}
	for id, p := range n.gossip.snapshot() {
		if p.status != autopilot.NodeAlive {
			continue
		}
		cur, ok := inConfig[id]
		var f raft.IndexFuture
		switch {
		case !ok:
			n.log.Info("adding new server", "member", id, "raft", p.meta.Raft)
			f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(p.meta.Raft), 0, 5*time.Second)
		case string(cur.Address) != p.meta.Raft && cur.Suffrage == raft.Voter:
			n.log.Info("server moved", "member", id, "old_raft", cur.Address, "raft", p.meta.Raft)
			f = n.raft.AddVoter(raft.ServerID(id), raft.ServerAddress(p.meta.Raft), 0, 5*time.Second)
		case string(cur.Address) != p.meta.Raft:
			f = n.raft.AddNonvoter(raft.ServerID(id), raft.ServerAddress(p.meta.Raft), 0, 5*time.Second)
		default:
			continue
		}
		if err := f.Error(); err != nil {
			n.log.Warn("membership change failed", "member", id, "err", err)
		}
	}
}

// autopilotDelegate lets raft-autopilot judge server health, promote
// caught-up non-voters, and clean up servers that left for good.
type autopilotDelegate struct{ n *Node }

func (d autopilotDelegate) AutopilotConfig() *autopilot.Config {
	return &autopilot.Config{
		CleanupDeadServers:      true,
		LastContactThreshold:    2 * time.Second,
		MaxTrailingLogs:         1000,
		MinQuorum:               uint(max(3, d.n.cfg.BootstrapExpect)),
		ServerStabilizationTime: 3 * time.Second,
	}
}

func (d autopilotDelegate) NotifyState(s *autopilot.State) {
	d.n.healthy.Store(s.Healthy)
}

func (d autopilotDelegate) FetchServerStats(ctx context.Context, servers map[raft.ServerID]*autopilot.Server) map[raft.ServerID]*autopilot.ServerStats {
	out := make(map[raft.ServerID]*autopilot.ServerStats, len(servers))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for id, srv := range servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ps peerStats
			if string(id) == d.n.cfg.NodeID {
				ps = d.n.localStats()
			} else {
				var err error
				if ps, err = d.n.fetchStats(ctx, string(srv.Address)); err != nil {
					return
				}
			}
			st := &autopilot.ServerStats{LastTerm: ps.LastTerm, LastIndex: ps.LastIndex}
			if ps.LastContactMS > 0 {
				st.LastContact = time.Duration(ps.LastContactMS) * time.Millisecond
			}
			mu.Lock()
			out[id] = st
			mu.Unlock()
		}()
	}
	wg.Wait()
	return out
}

// KnownServers lists every server gossip has seen, plus Raft members it has
// not (yet) seen as unknown: a server is never treated as stale merely
// because gossip has not converged after a restart.
func (d autopilotDelegate) KnownServers() map[raft.ServerID]*autopilot.Server {
	out := map[raft.ServerID]*autopilot.Server{}
	_, leader := d.n.raft.LeaderWithID()
	for id, p := range d.n.gossip.snapshot() {
		out[raft.ServerID(id)] = &autopilot.Server{
			ID: raft.ServerID(id), Name: id, Address: raft.ServerAddress(p.meta.Raft),
			NodeStatus: p.status, Version: strconv.Itoa(p.meta.Version), RaftVersion: raft.ProtocolVersionMax,
			IsLeader: raft.ServerID(id) == leader, NodeType: autopilot.NodeVoter,
		}
	}
	if f := d.n.raft.GetConfiguration(); f.Error() == nil {
		for _, s := range f.Configuration().Servers {
			if _, ok := out[s.ID]; !ok {
				out[s.ID] = &autopilot.Server{ID: s.ID, Name: string(s.ID), Address: s.Address,
					NodeStatus: autopilot.NodeUnknown, RaftVersion: raft.ProtocolVersionMax, NodeType: autopilot.NodeVoter}
			}
		}
	}
	return out
}

// RemoveFailedServer is autopilot asking to drop a failed server. Only a
// server that left on purpose is removed; one that merely failed may be
// coming back on its old data, and keeps its seat.
func (d autopilotDelegate) RemoveFailedServer(s *autopilot.Server) {
	if s.NodeStatus != autopilot.NodeLeft {
		return
	}
	go func() {
		if err := d.n.raft.RemoveServer(s.ID, 0, 5*time.Second).Error(); err != nil {
			d.n.log.Warn("removing departed server failed", "member", s.ID, "err", err)
			return
		}
		d.n.log.Info("removed departed server", "member", s.ID)
	}()
}
