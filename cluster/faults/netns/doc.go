// Package netns builds a small private network out of Linux network
// namespaces and injects faults into it, so that partition tests can run
// real `surat serve` processes on separate "machines" on one host.
//
// It owns the namespaces, the veth pairs, the bridge, the nftables rules that
// drop or lose frames, and the userspace relay that delays TCP. It does not
// know about Surat: starting nodes, waiting for a leader and checking
// invariants belong to the cluster harness that uses it (cluster/faults).
//
// # Topology
//
//	h1 198.18.0.1   h2 198.18.0.2   h3 198.18.0.3   c1 198.18.0.100
//	    eth0            eth0            eth0            eth0
//	     │               │               │               │     veth pairs
//	┌────┴───────────────┴───────────────┴───────────────┴────┐
//	│ sw:  port h1      port h2      port h3      port c1     │
//	│      └──────────── bridge br0 ────────────────┘         │
//	│      nftables: table bridge surat_faults                │
//	└─────────────────────────────────────────────────────────┘
//
// Each node (hosts h1…hN, clients c1…cM) is a namespace with loopback up and
// one interface, eth0, addressed in 198.18.0.0/24 (hosts from .1, clients
// from .100) with no default route. The switch namespace holds the bridge and
// one port per node, named after the node, so fault rules read
// `iifname "h1" oifname "h2" drop`. Namespace names carry a per-run id
// (surat-nt-<pid>-<random>-<node>) so parallel runs never collide; interface
// names are the same in every run because each run has its own namespaces.
//
// Nothing is created in the root namespace and nothing in this package ever
// sends to 198.18.0.0/24 from it: on a real machine that range is routed off
// the host. Code that must reach a node from the test process uses Dial,
// Listen or HTTPClient, which open their sockets inside a node's namespace.
//
// # Faults
//
// Isolate, Split and Loss/LossBetween are rules in one nftables table in the
// switch namespace (bridge family, a filter chain on the forward hook),
// rewritten atomically on every change. They drop IPv4 frames (IPv6 is off in
// every namespace) and let ARP through, so a cut shows as timeouts, a one-way
// cut stays one-way, and Heal takes effect at once.
//
// Delay cannot use netem here (the kernel is built without sch_netem, and
// without nft's queue expression). Instead, an `ip nat` output rule in the
// sending node's namespace redirects new TCP connections to a relay that reads
// SO_ORIGINAL_DST, dials the real destination and forwards each chunk in each
// direction D after it arrived. Only TCP connections opened after Delay are
// affected (NAT is decided when a connection starts); UDP (memberlist's
// gossip) is not delayed.
//
// # Use
//
//	topo, err := netns.New(ctx, netns.Options{}) // h1 h2 h3 c1; needs root, ip, nft
//	if err != nil { … }
//	defer topo.Close()
//	argv, _ := topo.CommandPrefix("h1") // ip netns exec surat-nt-…-h1
//	argv = append(argv, "bin/surat", "serve", "--raft", topo.Addr("h1").String()+":7001", …)
//	admin := topo.HTTPClient("c1") // reach http://198.18.0.1:8080 from the client's namespace
//	topo.Isolate(ctx, "h1")                                     // h1 alone
//	topo.Split(ctx, []string{"h1"}, []string{"h2", "h3", "c1"}) // every node named once
//	topo.Loss(ctx, 30)                                          // all links
//	topo.LossBetween(ctx, "h1", "h2", 100)                      // one direction
//	topo.Delay(ctx, netns.DelaySpec{From: "h3", Delay: 50 * time.Millisecond})
//	topo.Heal(ctx)                                              // all of the above gone
//
// # Leftovers
//
// Each run holds an flock on /run/surat-netns/<id>.lock while its namespaces
// exist. New (and RemoveLeftovers) delete the namespaces of every run whose
// lock is free, which is every run whose process died without Close, after
// killing any process still inside them.
package netns
