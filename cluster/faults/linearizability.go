package faults

import (
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// The linearizability model of one IMAP mailbox.
//
// What is checked: the mailbox's UID assignment and each message's flags,
// as seen by IMAP clients on different nodes. Operations:
//
//   - Append(u, F): APPEND with initial flags F, answered APPENDUID u.
//   - Store(u, mode, F): UID STORE u +FLAGS/-FLAGS/FLAGS.SILENT (F).
//   - Fetch(u) → (found, F): UID FETCH u FLAGS.
//   - Search → U: UID SEARCH ALL, the set of UIDs present.
//
// The sequential specification: the state is the set of UIDs present and,
// per UID, its flags. Append(u) is legal only if u is greater than every
// UID already assigned (RFC 9051 §2.3.1.1: UIDs strictly ascend in
// assignment order, so in linearization order too); Store changes the
// flags of a message that exists (clients only STORE UIDs they have seen);
// Fetch and Search must return exactly the state. A flag outside the few
// the workload uses makes a Fetch fail to match.
//
// Partitioning: the history splits into one partition per UID (its
// Append, Stores and Fetches: flag state) and one for the UID set (every
// Append and every Search). Appends belong to both. This checks each
// projection of the history (Jepsen's "independent keys"), which is what
// keeps the check fast; a history whose projections are each linearizable
// but that is not linearizable as a whole would pass, which is the usual
// price.
//
// Unknown outcomes: a write whose answer was lost (connection dropped, the
// node killed, NO [UNAVAILABLE] after a proposal that may still commit)
// may or may not have happened. Its return time is set past the end of the
// history (porcupine's "infinite" return), so it may be linearized anywhere
// after its call, including at the very end where it has no visible
// effect. An APPEND whose answer was lost has no known UID: after the
// round, the mailbox is read and the message found by its Message-ID; if
// found, that is its UID; if not, it never happened and is dropped (nothing
// is expunged in this mailbox). Reads whose answer was lost are dropped.
//
// Reads and Raft: Surat serves reads from the local projection without a
// Raft round trip (docs/DESIGN.md: "Reads never go through Raft"), so a plain
// read on a node that has not yet applied a write acknowledged by another
// node returns the older state; that is allowed by the design and is not
// linearizable. A read is therefore checked as a fenced read: the client
// first sends SUBSCRIBE (a write that always proposes an event; its OK
// comes only once it is committed and applied on that node, and the
// command's closing poll brings the session's view up to date), then the
// read; the operation spans from the fence's call to the read's return. A
// committed write completed before the fence's call has a lower log index
// than the fence, so it is visible to the read. Unfenced reads are
// recorded too and checked separately, for information.
//
// Session views: an IMAP session only knows the messages it has been told
// of (EXISTS). A client only STOREs or FETCHes UIDs it has seen in its own
// session (its own APPENDUIDs, UID SEARCH results), and after every
// reconnect a fence brings its new session's view past every UID it knew,
// so a STORE is never silently ignored for want of the UID in the view.

// modelFlags are the flags the workload sets and the model tracks, in bit
// order of FlagSet.
var modelFlags = [...]string{`\Answered`, `\Flagged`, `\Draft`, `$LinA`, `$LinB`}

// FlagSet is a set of the model's flags (\Answered, \Flagged, \Draft,
// $LinA, $LinB), bit i for the i-th; flagOther marks a flag outside them.
type FlagSet uint8

const flagOther FlagSet = 1 << 7

// FlagSetOf maps flag names (case-insensitively) to a FlagSet. \Recent is
// ignored (a session attribute, not state); any other unknown flag sets
// the bit that no model state has.
func FlagSetOf(flags []string) FlagSet {
	var s FlagSet
	for _, f := range flags {
		if strings.EqualFold(f, `\Recent`) {
			continue
		}
		i := slices.IndexFunc(modelFlags[:], func(m string) bool { return strings.EqualFold(m, f) })
		if i < 0 {
			s |= flagOther
			continue
		}
		s |= 1 << i
	}
	return s
}

// Names lists the flags of s.
func (s FlagSet) Names() []string {
	var out []string
	for i, f := range modelFlags {
		if s&(1<<i) != 0 {
			out = append(out, f)
		}
	}
	if s&flagOther != 0 {
		out = append(out, "(other)")
	}
	return out
}

func (s FlagSet) String() string { return "(" + strings.Join(s.Names(), " ") + ")" }

// OpKind is an operation of the model.
type OpKind uint8

// Operations of the model.
const (
	OpAppend OpKind = iota + 1
	OpStore
	OpFetch
	OpSearch
)

func (k OpKind) String() string {
	switch k {
	case OpAppend:
		return "Append"
	case OpStore:
		return "Store"
	case OpFetch:
		return "Fetch"
	case OpSearch:
		return "Search"
	}
	return fmt.Sprintf("OpKind(%d)", k)
}

// StoreMode is how a Store combines its flags with the message's.
type StoreMode uint8

// Store modes (RFC 9051 §6.4.6).
const (
	StoreAdd     StoreMode = iota + 1 // +FLAGS
	StoreRemove                       // -FLAGS
	StoreReplace                      // FLAGS
)

func (m StoreMode) String() string {
	switch m {
	case StoreAdd:
		return "+FLAGS"
	case StoreRemove:
		return "-FLAGS"
	case StoreReplace:
		return "FLAGS"
	}
	return fmt.Sprintf("StoreMode(%d)", m)
}

func (m StoreMode) apply(cur, f FlagSet) FlagSet {
	switch m {
	case StoreAdd:
		return cur | f
	case StoreRemove:
		return cur &^ f
	default:
		return f
	}
}

// LinInput is an operation's call.
type LinInput struct {
	Kind OpKind
	// UID: Append, the UID assigned (from APPENDUID, or found afterwards
	// for an unknown outcome); Store and Fetch, the message named.
	UID   uint32
	Flags FlagSet   // Append: initial flags; Store: the flags named
	Mode  StoreMode // Store
}

// LinOutput is an operation's answer.
type LinOutput struct {
	// Unknown: the answer was lost; the operation may or may not have
	// taken effect (its Return must be past the end of the history).
	Unknown bool
	Found   bool     // Fetch: the message was returned
	Flags   FlagSet  // Fetch: its flags
	UIDs    []uint32 // Search: the UIDs, ascending
	Detail  string   // for the visualisation only: error text, node
}

// partInput is an input tagged with the partition it is checked in:
// Appends take part in both kinds, with different state.
type partInput struct {
	uidSet bool // the UID-set partition, else a per-UID one
	in     LinInput
}

// linState is the state of one partition: for the UID set, the UIDs
// present in ascending order (never mutated: a step copies); for one UID,
// whether the message exists and its flags.
type linState struct {
	uids   []uint32
	exists bool
	flags  FlagSet
}

// MailboxModel is the porcupine model described above.
func MailboxModel() porcupine.Model {
	return porcupine.Model{
		Partition: partitionMailbox,
		Init:      func() interface{} { return linState{} },
		Step: func(state, input, output interface{}) (bool, interface{}) {
			return stepMailbox(state.(linState), input.(partInput), output.(LinOutput))
		},
		Equal: func(a, b interface{}) bool {
			x, y := a.(linState), b.(linState)
			return x.exists == y.exists && x.flags == y.flags && slices.Equal(x.uids, y.uids)
		},
		Hash: func(s interface{}) uint64 {
			st := s.(linState)
			h := fnv.New64a()
			var b [5]byte
			for _, u := range st.uids {
				b[0], b[1], b[2], b[3] = byte(u>>24), byte(u>>16), byte(u>>8), byte(u)
				h.Write(b[:4])
			}
			b[0] = byte(st.flags)
			if st.exists {
				b[1] = 1
			} else {
				b[1] = 0
			}
			h.Write(b[:2])
			return h.Sum64()
		},
		DescribeOperation: func(input, output interface{}) string {
			return describeOp(input.(partInput).in, output.(LinOutput))
		},
		DescribeState: func(s interface{}) string {
			st := s.(linState)
			if st.uids != nil {
				return "UIDs " + describeUIDs(st.uids)
			}
			if !st.exists {
				return "absent"
			}
			return st.flags.String()
		},
	}
}

func stepMailbox(st linState, p partInput, out LinOutput) (bool, linState) {
	in := p.in
	if p.uidSet {
		switch in.Kind {
		case OpAppend:
			if n := len(st.uids); n > 0 && in.UID <= st.uids[n-1] {
				return false, st
			}
			next := make([]uint32, len(st.uids), len(st.uids)+1)
			copy(next, st.uids)
			return true, linState{uids: append(next, in.UID)}
		case OpSearch:
			if out.Unknown {
				return true, st
			}
			return slices.Equal(st.uids, out.UIDs), st
		}
		return false, st
	}
	switch in.Kind {
	case OpAppend:
		if st.exists {
			return false, st // a UID assigned twice
		}
		return true, linState{exists: true, flags: in.Flags}
	case OpStore:
		if !st.exists {
			return false, st
		}
		return true, linState{exists: true, flags: in.Mode.apply(st.flags, in.Flags)}
	case OpFetch:
		if out.Unknown {
			return true, st
		}
		if !out.Found {
			return !st.exists, st
		}
		return st.exists && st.flags == out.Flags, st
	}
	return false, st
}

// partitionMailbox puts every Append and Search in the UID-set partition
// and every Append, Store and Fetch in the partition of its UID.
func partitionMailbox(history []porcupine.Operation) [][]porcupine.Operation {
	var set []porcupine.Operation
	byUID := map[uint32][]porcupine.Operation{}
	for _, op := range history {
		in := op.Input.(LinInput)
		if in.Kind == OpAppend || in.Kind == OpSearch {
			o := op
			o.Input = partInput{uidSet: true, in: in}
			set = append(set, o)
		}
		if in.Kind != OpSearch {
			o := op
			o.Input = partInput{in: in}
			byUID[in.UID] = append(byUID[in.UID], o)
		}
	}
	uids := make([]uint32, 0, len(byUID))
	for u := range byUID {
		uids = append(uids, u)
	}
	slices.Sort(uids)
	parts := [][]porcupine.Operation{}
	if len(set) > 0 {
		parts = append(parts, set)
	}
	for _, u := range uids {
		parts = append(parts, byUID[u])
	}
	return parts
}

func describeOp(in LinInput, out LinOutput) string {
	var s string
	switch in.Kind {
	case OpAppend:
		s = fmt.Sprintf("Append%s → %d", in.Flags, in.UID)
	case OpStore:
		s = fmt.Sprintf("Store %d %s%s", in.UID, in.Mode, in.Flags)
	case OpFetch:
		if out.Unknown {
			s = fmt.Sprintf("Fetch %d → ?", in.UID)
		} else if !out.Found {
			s = fmt.Sprintf("Fetch %d → absent", in.UID)
		} else {
			s = fmt.Sprintf("Fetch %d → %s", in.UID, out.Flags)
		}
	case OpSearch:
		s = "Search → " + describeUIDs(out.UIDs)
	default:
		s = in.Kind.String()
	}
	if out.Unknown && in.Kind != OpFetch {
		s += " (outcome unknown)"
	}
	if out.Detail != "" {
		s += " [" + out.Detail + "]"
	}
	return s
}

// describeUIDs renders ascending UIDs as ranges: 1:4,7,9:10.
func describeUIDs(uids []uint32) string {
	if len(uids) == 0 {
		return "{}"
	}
	var b strings.Builder
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		if j == i {
			fmt.Fprintf(&b, "%d", uids[i])
		} else {
			fmt.Fprintf(&b, "%d:%d", uids[i], uids[j])
		}
		i = j + 1
	}
	return b.String()
}

// OpMeta is what the history keeps about an operation besides its call and
// answer.
type OpMeta struct {
	Client    int
	Node      string
	MessageID string // Append: the Message-ID of the appended message
	Fenced    bool   // Fetch and Search: preceded by a fence
	Final     bool   // a read of the final state, after the workload
}

// History is the record of a workload's operations, safe for concurrent
// use. Times are nanoseconds since the history began, on the monotonic
// clock.
type History struct {
	mu   sync.Mutex
	base time.Time
	ops  []porcupine.Operation
}

// NewHistory starts a history now.
func NewHistory() *History { return &History{base: time.Now()} }

// Now is the current time on the history's clock.
func (h *History) Now() int64 { return int64(time.Since(h.base)) }

// Add records an operation. For an unknown outcome the return time is
// ignored (it becomes "after everything" when the history is checked).
func (h *History) Add(meta OpMeta, in LinInput, out LinOutput, call, ret int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ops = append(h.ops, porcupine.Operation{
		ClientId: meta.Client, Input: in, Call: call, Output: out, Return: ret, Metadata: meta,
	})
}

// Operations returns a copy of the recorded operations.
func (h *History) Operations() []porcupine.Operation {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.ops)
}

// FinalMessage is one message of the mailbox as read after the workload.
type FinalMessage struct {
	UID       uint32
	MessageID string
	Flags     []string
}

// PrepareOptions say how a raw history becomes the one checked.
type PrepareOptions struct {
	// Final is the mailbox read after the workload on a node that applied
	// everything (all nodes agree, checked separately).
	Final []FinalMessage
	// FinalClient is the client id of the final reads (one past the
	// workload's clients, for the visualisation).
	FinalClient int
	// Unfenced keeps unfenced reads in the history (the informational
	// check); by default they are left out.
	Unfenced bool
}

// Prepared is a history ready for the checker, with what preparing it
// found on the way.
type Prepared struct {
	Ops []porcupine.Operation
	// Problems are violations found without the checker: an acknowledged
	// APPEND missing from the final mailbox or found under another UID, a
	// Message-ID present twice.
	Problems []string
	// UnknownAppendsFound and UnknownAppendsDropped count APPENDs with a
	// lost answer that did and did not take effect.
	UnknownAppendsFound, UnknownAppendsDropped int
}

// Prepare resolves unknown APPENDs against the final mailbox, opens the
// ends of unknown operations, and adds the final state as reads after
// everything else: one Search and one Fetch per message.
func Prepare(raw []porcupine.Operation, opts PrepareOptions) Prepared {
	var p Prepared
	byID := map[string]FinalMessage{}
	for _, m := range opts.Final {
		if prev, dup := byID[m.MessageID]; dup {
			p.Problems = append(p.Problems, fmt.Sprintf("Message-ID %s present twice: UIDs %d and %d", m.MessageID, prev.UID, m.UID))
			continue
		}
		byID[m.MessageID] = m
	}
	var end int64
	for _, op := range raw {
		end = max(end, op.Call, op.Return)
	}
	for _, op := range raw {
		in, out, meta := op.Input.(LinInput), op.Output.(LinOutput), op.Metadata.(OpMeta)
		if !opts.Unfenced && (in.Kind == OpFetch || in.Kind == OpSearch) && !meta.Fenced && !meta.Final {
			continue
		}
		if in.Kind == OpAppend {
			m, found := byID[meta.MessageID]
			switch {
			case out.Unknown && !found:
				p.UnknownAppendsDropped++
				continue
			case out.Unknown:
				p.UnknownAppendsFound++
				in.UID = m.UID
			case !found:
				p.Problems = append(p.Problems, fmt.Sprintf("acknowledged APPEND %s (APPENDUID %d, client %d via %s) is missing from the final mailbox", meta.MessageID, in.UID, meta.Client, meta.Node))
			case m.UID != in.UID:
				p.Problems = append(p.Problems, fmt.Sprintf("APPEND %s answered APPENDUID %d but the message has UID %d", meta.MessageID, in.UID, m.UID))
			}
			op.Input = in
		}
		p.Ops = append(p.Ops, op)
	}
	// The final reads come after every operation that returned; unknown
	// outcomes stay open past them.
	call := end + 1
	ret := call + 1
	uids := make([]uint32, 0, len(opts.Final))
	for _, m := range opts.Final {
		uids = append(uids, m.UID)
	}
	slices.Sort(uids)
	final := OpMeta{Client: opts.FinalClient, Node: "final", Final: true}
	p.Ops = append(p.Ops, porcupine.Operation{ClientId: opts.FinalClient, Input: LinInput{Kind: OpSearch},
		Call: call, Output: LinOutput{UIDs: uids, Detail: "final state"}, Return: ret, Metadata: final})
	for _, m := range opts.Final {
		p.Ops = append(p.Ops, porcupine.Operation{ClientId: opts.FinalClient, Input: LinInput{Kind: OpFetch, UID: m.UID},
			Call: call, Output: LinOutput{Found: true, Flags: FlagSetOf(m.Flags), Detail: "final state"}, Return: ret, Metadata: final})
	}
	open := ret + 1
	for i := range p.Ops {
		if p.Ops[i].Output.(LinOutput).Unknown {
			p.Ops[i].Return = open
		}
	}
	sort.SliceStable(p.Ops, func(i, j int) bool { return p.Ops[i].Call < p.Ops[j].Call })
	return p
}

// CheckResult is the outcome of checking a history.
type CheckResult struct {
	Result     porcupine.CheckResult
	Ops        int
	Partitions int
	Elapsed    time.Duration
	// Visualization is the path of porcupine's HTML rendering, written
	// when the history is not linearizable and a directory was given.
	Visualization string
}

// CheckLinearizable checks ops against MailboxModel within timeout (0: no
// limit). If the history is not linearizable and vizDir is not empty, the
// visualisation is written there as name.html.
func CheckLinearizable(ops []porcupine.Operation, timeout time.Duration, vizDir, name string) (CheckResult, error) {
	model := MailboxModel()
	start := time.Now()
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	r := CheckResult{Result: res, Ops: len(ops), Partitions: len(partitionMailbox(ops)), Elapsed: time.Since(start)}
	if res != porcupine.Illegal || vizDir == "" {
		return r, nil
	}
	if err := os.MkdirAll(vizDir, 0o755); err != nil {
		return r, fmt.Errorf("visualisation: %w", err)
	}
	path := filepath.Join(vizDir, name+".html")
	if err := porcupine.VisualizePath(model, info, path); err != nil {
		return r, fmt.Errorf("visualisation: %w", err)
	}
	r.Visualization = path
	return r, nil
}
