package sortthread

import (
	"slices"
	"strconv"
	"strings"
)

// Algorithm is a threading algorithm (RFC 5256 §3, THREAD).
type Algorithm uint8

const (
	OrderedSubject Algorithm = iota + 1 // "poor man's threading"
	References                          // after Jamie Zawinski's algorithm
	// Refs is REFERENCES without gathering by subject, threads ordered by
	// their latest message (THREAD=REFS, draft-ietf-morg-inthread-01,
	// as Dovecot serves it); webmails such as Roundcube prefer it.
	Refs
)

// ParseAlgorithm returns the Algorithm named name (case-insensitive).
func ParseAlgorithm(name string) (Algorithm, bool) {
	switch strings.ToUpper(name) {
	case "ORDEREDSUBJECT":
		return OrderedSubject, true
	case "REFERENCES":
		return References, true
	case "REFS":
		return Refs, true
	}
	return 0, false
}

func (a Algorithm) String() string {
	switch a {
	case OrderedSubject:
		return "ORDEREDSUBJECT"
	case References:
		return "REFERENCES"
	case Refs:
		return "REFS"
	}
	return "?"
}

// Thread is one node of a thread tree: a message, or (ID 0) a dummy that
// only holds its children together, which THREAD answers as a list of
// the children's threads (RFC 5256 §4: "((3)(5))").
type Thread struct {
	ID       uint32
	Children []*Thread
}

// Threads computes the THREAD answer for msgs (in mailbox order) with
// the algorithm alg.
func Threads(msgs []Message, alg Algorithm) []*Thread {
	switch alg {
	case OrderedSubject:
		return orderedSubject(msgs)
	case Refs:
		return refs(msgs)
	}
	return references(msgs)
}

// orderedSubject is THREAD=ORDEREDSUBJECT (RFC 5256 §3): messages sorted
// by base subject then sent date, split into one thread per base subject
// (the empty one included), each thread's first message at the top and
// the others its children; threads ordered by their first message's sent
// date.
func orderedSubject(msgs []Message) []*Thread {
	order := make([]int, len(msgs))
	for i := range order {
		order[i] = i
	}
	sent := make([]int64, len(msgs))
	for i := range msgs {
		sent[i] = msgs[i].sent()
	}
	slices.SortStableFunc(order, func(a, b int) int {
		if r := strings.Compare(msgs[a].summary().Subject, msgs[b].summary().Subject); r != 0 {
			return r
		}
		return cmpInt(sent[a], sent[b])
	})
	var threads []*Thread
	var firsts []int
	for k := 0; k < len(order); {
		first := order[k]
		t := &Thread{ID: msgs[first].ID}
		k++
		for k < len(order) && msgs[order[k]].summary().Subject == msgs[first].summary().Subject {
			t.Children = append(t.Children, &Thread{ID: msgs[order[k]].ID})
			k++
		}
		threads = append(threads, t)
		firsts = append(firsts, first)
	}
	idx := make([]int, len(threads))
	for i := range idx {
		idx[i] = i
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		if r := cmpInt(sent[firsts[a]], sent[firsts[b]]); r != 0 {
			return r
		}
		return firsts[a] - firsts[b]
	})
	out := make([]*Thread, len(idx))
	for i, j := range idx {
		out[i] = threads[j]
	}
	return out
}

// node is a message (msg >= 0) or a dummy (msg < 0) of the REFERENCES
// tree under construction.
type node struct {
	msg      int
	parent   *node
	children []*node
}

func (n *node) dummy() bool { return n.msg < 0 }

// isDescendantOf reports whether n is anc or below it.
func (n *node) isDescendantOf(anc *node) bool {
	for p := n; p != nil; p = p.parent {
		if p == anc {
			return true
		}
	}
	return false
}

func (n *node) unlink() {
	if p := n.parent; p != nil {
		if i := slices.Index(p.children, n); i >= 0 {
			p.children = slices.Delete(p.children, i, i+1)
		}
		n.parent = nil
	}
}

func (n *node) adopt(c *node) {
	c.unlink()
	c.parent = n
	n.children = append(n.children, c)
}

// references is THREAD=REFERENCES (RFC 5256 §3), steps numbered as there.
func references(msgs []Message) []*Thread {
	root := link(msgs)
	// (3) Prune dummies.
	prune(root, true, false)
	sent := sentDates(msgs)
	// (4) Sort the root's children by sent date, a dummy by its first
	// child once its children are sorted.
	sortSiblings(root, sent, false)
	// (5) Gather the threads with the same base subject.
	mergeSubjects(root, msgs)
	// (6) Sort every set of siblings, the deepest first.
	sortSiblings(root, sent, true)
	return export(root.children, msgs)
}

// refs is THREAD=REFS: REFERENCES' steps 1 to 3, with the dummies at
// the top kept, each (a lone child's too: its uid sorts as 0); no
// gathering by subject; every set of siblings sorted by sent date, and
// the threads by the latest sent date among their messages, ties by the
// top message's mailbox position (a dummy's first), as Dovecot orders
// them.
func refs(msgs []Message) []*Thread {
	root := link(msgs)
	prune(root, true, true)
	sent := sentDates(msgs)
	sortSiblings(root, sent, true)
	type key struct {
		latest int64
		pos    int
	}
	keys := make(map[*node]key, len(root.children))
	var latest func(n *node) int64
	latest = func(n *node) int64 {
		var l int64
		if !n.dummy() {
			l = sent[n.msg]
		}
		for _, c := range n.children {
			l = max(l, latest(c))
		}
		return l
	}
	for _, n := range root.children {
		keys[n] = key{latest(n), n.msg}
	}
	slices.SortStableFunc(root.children, func(a, b *node) int {
		ka, kb := keys[a], keys[b]
		if r := cmpInt(ka.latest, kb.latest); r != 0 {
			return r
		}
		return ka.pos - kb.pos
	})
	return export(root.children, msgs)
}

// sentDates is every message's sent date (RFC 5256 §2.2), by position.
func sentDates(msgs []Message) []int64 {
	sent := make([]int64, len(msgs))
	for i := range msgs {
		sent[i] = msgs[i].sent()
	}
	return sent
}

// link is REFERENCES' steps 1 and 2 (RFC 5256 §3): the messages linked
// by their references, under a root whose children are those without a
// parent, dummies included.
func link(msgs []Message) *node {
	nodes := make([]*node, len(msgs))
	all := make([]*node, 0, len(msgs))
	byID := make(map[string]*node, len(msgs))
	// Identifiers first, so that a reference finds a message later in
	// the mailbox: a message without a valid Message-ID, or with one an
	// earlier message has, gets a unique one (here: none in the table).
	for i := range msgs {
		n := &node{msg: i}
		nodes[i] = n
		all = append(all, n)
		if id := msgs[i].summary().MessageID; id != "" {
			if _, taken := byID[id]; !taken {
				byID[id] = n
			}
		}
	}
	lookup := func(id string) *node {
		n, ok := byID[id]
		if !ok {
			// No message has it: a dummy, used for every later reference.
			n = &node{msg: -1}
			byID[id] = n
			all = append(all, n)
		}
		return n
	}
	// (1) Link parents and children.
	for i := range msgs {
		refs := msgs[i].summary().References
		cur := nodes[i]
		// (A) Each reference the parent of the next, unless the child
		// has a parent already or the link would make a loop.
		var prev *node
		for _, id := range refs {
			n := lookup(id)
			if prev != nil && n != prev && n.parent == nil && !prev.isDescendantOf(n) {
				prev.adopt(n)
			}
			prev = n
		}
		// (B) The last reference is the message's parent: break the
		// parent it has (a truncated References elsewhere), and link
		// unless that makes a loop.
		cur.unlink()
		if prev != nil && prev != cur && !prev.isDescendantOf(cur) {
			prev.adopt(cur)
		}
	}
	// (2) Messages without a parent are the children of the root.
	root := &node{msg: -1}
	for _, n := range all {
		if n.parent == nil {
			n.parent = root
			root.children = append(root.children, n)
		}
	}
	return root
}

// prune removes the dummies under n (RFC 5256 §3 step 3): one with no
// children goes; one with children is replaced by them, unless that
// would put several children at the root, or it is at the root and
// keepTop is set.
func prune(n *node, isRoot, keepTop bool) {
	var kept []*node
	for _, c := range n.children {
		prune(c, false, keepTop)
		switch {
		case !c.dummy():
			kept = append(kept, c)
		case len(c.children) == 0:
			c.parent = nil
		case !isRoot || len(c.children) == 1 && !keepTop:
			for _, g := range c.children {
				g.parent = n
			}
			kept = append(kept, c.children...)
			c.children, c.parent = nil, nil
		default:
			kept = append(kept, c)
		}
	}
	n.children = kept
}

// sortKey is where n sorts among its siblings: its sent date and mailbox
// position, a dummy's those of its first child.
func sortKey(n *node, sent []int64) (int64, int) {
	for n.dummy() {
		if len(n.children) == 0 {
			return 0, -1
		}
		n = n.children[0]
	}
	return sent[n.msg], n.msg
}

// sortSiblings sorts n's children by sent date (ties: mailbox order, RFC
// 5256 §2.2: two servers holding the same messages under different UIDs
// may order equal-dated threads differently — bench/imapext -thread-diff);
// deep sorts every level below first, otherwise only dummies' children
// are sorted first (step 4).
func sortSiblings(n *node, sent []int64, deep bool) {
	for _, c := range n.children {
		if deep || c.dummy() {
			sortSiblings(c, sent, deep)
		}
	}
	slices.SortStableFunc(n.children, func(a, b *node) int {
		da, ia := sortKey(a, sent)
		db, ib := sortKey(b, sent)
		if r := cmpInt(da, db); r != 0 {
			return r
		}
		return ia - ib
	})
}

// subjectOf is the base subject a top-level node is gathered by, and
// whether it is a reply or forward: a dummy's first child's.
func subjectOf(n *node, msgs []Message) (string, bool) {
	for n.dummy() {
		if len(n.children) == 0 {
			return "", false
		}
		n = n.children[0]
	}
	s := msgs[n.msg].summary()
	return s.Subject, s.Reply
}

// mergeSubjects is RFC 5256 §3 step 5.
func mergeSubjects(root *node, msgs []Message) {
	// (A), (B) The subject table: per base subject, the top-level node
	// that stands for it — a dummy before a message, a message that is
	// not a reply or forward before one that is.
	table := map[string]*node{}
	for _, n := range root.children {
		subj, reply := subjectOf(n, msgs)
		if subj == "" {
			continue
		}
		old, ok := table[subj]
		switch {
		case !ok:
			table[subj] = n
		case n.dummy() && !old.dummy():
			table[subj] = n
		case !old.dummy() && !n.dummy():
			if _, oldReply := subjectOf(old, msgs); oldReply && !reply {
				table[subj] = n
			}
		}
	}
	// (C) Merge each top-level node into its subject's.
	top := slices.Clone(root.children)
	for _, cur := range top {
		if cur.parent != root {
			continue // already merged under another
		}
		subj, reply := subjectOf(cur, msgs)
		if subj == "" {
			continue
		}
		t := table[subj]
		if t == nil || t == cur {
			continue
		}
		_, tReply := subjectOf(t, msgs)
		switch {
		case cur.dummy() && t.dummy():
			// Both dummies: the children become siblings.
			for _, c := range slices.Clone(cur.children) {
				t.adopt(c)
			}
			cur.unlink()
		case t.dummy() && !cur.dummy():
			t.adopt(cur)
		case reply && !tReply && !cur.dummy():
			t.adopt(cur)
		default:
			d := &node{msg: -1}
			root.adopt(d)
			d.adopt(t)
			d.adopt(cur)
			table[subj] = d
		}
	}
}

// export turns nodes into Threads.
func export(nodes []*node, msgs []Message) []*Thread {
	out := make([]*Thread, 0, len(nodes))
	for _, n := range nodes {
		t := &Thread{}
		if !n.dummy() {
			t.ID = msgs[n.msg].ID
		}
		if len(n.children) > 0 {
			t.Children = export(n.children, msgs)
		}
		out = append(out, t)
	}
	return out
}

// AppendThreads appends the THREAD response's data (RFC 5256 §4,
// thread-list) for threads to dst: "(2)(3 6 (4 23)(44 7 96))".
func AppendThreads(dst []byte, threads []*Thread) []byte {
	for _, t := range threads {
		dst = append(dst, '(')
		dst = appendMembers(dst, t)
		dst = append(dst, ')')
	}
	return dst
}

// appendMembers appends thread-members or thread-nested for t: a chain of
// single children is written flat, several children each in parentheses.
func appendMembers(dst []byte, t *Thread) []byte {
	if t.ID == 0 {
		if len(t.Children) == 1 {
			return appendMembers(dst, t.Children[0])
		}
		return AppendThreads(dst, t.Children)
	}
	dst = strconv.AppendUint(dst, uint64(t.ID), 10)
	for len(t.Children) == 1 && t.Children[0].ID != 0 {
		t = t.Children[0]
		dst = append(dst, ' ')
		dst = strconv.AppendUint(dst, uint64(t.ID), 10)
	}
	if len(t.Children) > 0 {
		dst = append(dst, ' ')
		if len(t.Children) == 1 {
			// A lone dummy child (never left by the algorithms): its
			// children stand in its place.
			return AppendThreads(dst, t.Children[0].Children)
		}
		dst = AppendThreads(dst, t.Children)
	}
	return dst
}
