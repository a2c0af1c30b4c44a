// Package cluster replicates proposals through Raft to every node and hands
// the committed entries, in log order, to a StateMachine (the mail
// projections). It owns Raft (hashicorp/raft with raft-boltdb for the log
// and stable store), the node-to-node transport, membership (memberlist and
// raft-autopilot), forwarding from followers to the leader, group commit,
// snapshots and applied-index waits. It must not know mail semantics:
// proposals and results are opaque bytes here.
//
// # The write path
//
//	session ──Propose(ctx, bytes)──► proposer queue (this node)
//	                                   │ group commit: everything queued
//	                                   │ while earlier entries are in flight
//	                                   ▼ becomes one Raft entry
//	            leader? ──yes──► raft.Apply(entry) ─► replicate ─► quorum commit
//	               │no                                                │
//	               └─► forward entry to leader (mTLS 'F' stream) ──────┤
//	                                                                  ▼
//	              FSM.ApplyBatch on every node ─► StateMachine.ApplyEntry(index, proposals)
//	                                                                  │
//	  answer the session ◄── this node has applied the entry's index ◄┘
//
// A session is answered only after its proposal is committed by a quorum
// and applied on the node it talks to (docs/DESIGN.md, invariant 1), so its next
// read there sees the change. A follower learns the commit from the next
// AppendEntries; CommitTimeout bounds that wait. ProposeAsync returns a
// Future (Wait, Index) as soon as the proposal is queued, as hashicorp/raft's
// ApplyFuture does, so that one caller can have several proposals in
// flight (a large message's chunks share entries instead of paying a round
// trip each); Propose is ProposeAsync then Wait.
//
// # One port, three streams
//
// The --raft address serves mutual TLS 1.3. Both ends present a certificate
// signed by a CA whose key is derived (HKDF) from the cluster key, so the
// key alone decides membership and no certificates need distributing; the
// gossip layer's AES-GCM key is derived from it too (invariant 8). After the
// handshake one byte names the stream: Raft RPCs, forwarded entries, or
// stats (for autopilot and Status).
//
// # Membership
//
// Nodes publish their id, Raft address and --bootstrap-expect in gossip
// metadata. A node with no Raft state and an expectation bootstraps once it
// sees that many servers, with the sorted list of all of them, as Consul
// does. Afterwards the leader adds newly seen servers as non-voters and
// autopilot promotes them once healthy; a restarted node rejoins with its
// old id and data. A server that merely failed keeps its seat.
//
// # Failure semantics
//
// Every proposal gets a 16-byte random idempotency key from the node that
// proposes it, and the entry records the commit index that node had seen
// when it first sent it (entry.go, version 2). Propose retries where the
// entry cannot have been appended (no leader yet, leadership moved before
// appending, connection refused before sending) and also where the outcome
// is unknown (the leader's answer was lost, leadership moved while the
// entry was in flight): it sends the same bytes again, and the state
// machine, which remembers keys for a window of log entries, applies a
// copy that already committed only once and answers it with the first
// copy's real result (StateMachine.ApplyEntry). What is left once the
// propose deadline passes is reported as ErrNoQuorum or ErrShutdown: the
// proposal may or may not have committed, and the client must be told to
// try again later (a temporary error), never that it failed for good.
//
// A state machine that panics with an error (its storage failed) stops the
// node through Config.OnStorageFull (a full disk) or
// Config.OnStorageFailure (any other I/O error); deterministic failures are
// the state machine's to refuse, on every node alike.
//
// # Running out of disk space
//
// With Config.MinFreeBytes set, a node whose data filesystem falls below
// it refuses new proposals with the temporary ErrInsufficientStorage,
// reports itself not ready and hands leadership to a voter with space;
// below half of it, it also stops appending to its Raft log and applying,
// and catches up once space is freed. Pebble cannot survive a write that
// fails for lack of space, so the guard keeps it from ever seeing one;
// diskguard.go records what was measured and why.
//
// # Snapshots
//
// Snapshots are the state machine's own checkpoints (Pebble checkpoints),
// streamed by Raft to a node that fell behind log compaction; Restore swaps
// the store. Raft is told not to restore the last snapshot at start: the
// projections are durable and carry their applied index, and a store that
// is behind the newest snapshot is restored from it before Raft starts.
package cluster
