package cluster

import (
	"errors"
	"io"
)

// StateMachine is what the cluster replicates into: the mail projections.
// The cluster hands it committed entries in log order and never interprets
// the proposal bytes; it knows nothing of mail.
type StateMachine interface {
	// ApplyEntry applies the proposals of one committed log entry at index
	// and returns one result per proposal (same length, same order). It
	// must be deterministic and must skip proposals already applied before
	// a crash (the applied position is stored with the changes). It is
	// also called with no proposals for log entries that carry none
	// (configuration changes), so that the applied index still advances.
	//
	// A proposal with a Key may arrive more than once: a node whose
	// forward lost the leader's answer sends the entry again, since it
	// cannot know whether the first copy committed. The state machine
	// remembers the keys (durably, with the state) for a window of log
	// entries and answers a key it has seen with the result it gave then,
	// applying nothing; a key it may have forgotten (ProposedAt further
	// back than its window) it refuses without applying. So a proposal is
	// applied at most once, and the answer is always the real one.
	//
	// A state machine that cannot go on (its storage failed) panics with
	// an error; Config.OnStorageFull or Config.OnStorageFailure receives it.
	ApplyEntry(index uint64, proposals []Proposal) [][]byte
	// AppliedIndex is the index of the last entry Apply finished.
	AppliedIndex() uint64
	// Checkpoint captures a consistent copy of the state as of the last
	// Apply. It is called between applies and must be quick (Pebble makes
	// checkpoints from hard links); the copy is streamed out later.
	Checkpoint() (Checkpoint, error)
	// Restore replaces the whole state with a copy streamed by a
	// Checkpoint's WriteTo, atomically: after a crash mid-restore the node
	// has either the old state or the new one.
	Restore(r io.Reader) error
}

// Proposal is one proposal of a committed entry. It is an alias of an
// unnamed struct type, as Checkpoint is of an interface, so that a state
// machine package can declare the identical type without importing this
// one.
type Proposal = struct {
	// Key is the 16 random bytes the proposing node chose for this
	// proposal; every copy of it carries the same. Nil in entries written
	// before keys existed.
	Key []byte
	// ProposedAt is the proposing node's last Raft log index when it first
	// sent the entry, so that a copy arriving after the state machine's
	// window can be recognised.
	ProposedAt uint64
	// Data is the proposal, opaque here.
	Data []byte
}

// Checkpoint is a captured copy of the state, streamed to a Raft snapshot.
// It is an alias of a plain interface type so that a state machine package
// can return its own identical alias without importing this one.
type Checkpoint = interface {
	WriteTo(w io.Writer) (int64, error)
	// Release frees the copy; it is called once, after WriteTo or instead.
	Release()
}

// Errors a proposer sees. All but ErrRejected are temporary: the change may
// or may not have been committed (except ErrNoLeader, where it was not), and
// a client should be told to retry.
var (
	// ErrNoLeader: no leader is known, so nothing was proposed.
	ErrNoLeader = errors.New("cluster: no leader")
	// ErrNoQuorum: the leader could not reach a quorum in time.
	ErrNoQuorum = errors.New("cluster: no quorum")
	// ErrShutdown: this node is shutting down.
	ErrShutdown = errors.New("cluster: shutting down")
	// ErrTooLarge: the proposal exceeds MaxProposalSize.
	ErrTooLarge = errors.New("cluster: proposal too large")
	// ErrInsufficientStorage: this node, or the leader it forwards to, is
	// below its free disk space threshold (Config.MinFreeBytes), so nothing
	// was proposed. Temporary: it clears when space is freed, and another
	// node may accept the change meanwhile.
	ErrInsufficientStorage = errors.New("cluster: insufficient storage")
)

// IsTemporary reports whether err from Propose means "try again later"
// rather than a permanent refusal.
func IsTemporary(err error) bool {
	return err != nil && !errors.Is(err, ErrTooLarge)
}

// MemberState is a member's Raft role as this node sees it.
type MemberState string

// Member states reported by Status.
const (
	StateLeader    MemberState = "leader"
	StateFollower  MemberState = "follower"
	StateCandidate MemberState = "candidate"
	StateDown      MemberState = "down"
)

// Member is one server in the Raft configuration.
type Member struct {
	ID           string      `json:"id"`
	State        MemberState `json:"state"`
	AppliedIndex uint64      `json:"applied_index"`
	RaftAddr     string      `json:"raft_addr"`
	Voter        bool        `json:"voter"`
}

// Status is this node's view of the cluster (GET /v1/cluster).
type Status struct {
	Leader  string   `json:"leader"`
	Self    string   `json:"self"`
	Members []Member `json:"members"`
}
