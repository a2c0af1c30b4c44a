package imapext

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// ThreadNode is one node of a THREAD answer (RFC 5256 §4): a UID, or 0
// for a dummy (a parenthesised list of threads with no message of its
// own at its head).
type ThreadNode struct {
	UID      uint32
	Children []*ThreadNode
}

// ParseThreads reads the thread-list of an untagged THREAD response
// ("* THREAD (2)(3 6 (4 23)(44 7 96))"). It never fails: what does not
// parse is skipped.
func ParseThreads(l string) []*ThreadNode {
	if i := indexFold(l, "THREAD"); i >= 0 {
		l = l[i+len("THREAD"):]
	}
	p := threadParser{s: l}
	var out []*ThreadNode
	for {
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '(' {
			return out
		}
		p.i++
		out = append(out, p.list())
	}
}

type threadParser struct {
	s string
	i int
}

func (p *threadParser) space() {
	for p.i < len(p.s) && p.s[p.i] == ' ' {
		p.i++
	}
}

// list reads thread-members then thread-nested up to the ")" closing the
// list the caller opened: "3 6 (4 23)(44 7 96))" is 3 → 6 → {4 → 23,
// 44 → 7 → 96}. A list that opens with nested threads is a dummy.
func (p *threadParser) list() *ThreadNode {
	head := &ThreadNode{}
	cur := head
	first := true
	for {
		p.space()
		if p.i >= len(p.s) {
			return head
		}
		switch c := p.s[p.i]; {
		case c == ')':
			p.i++
			return head
		case c == '(':
			p.i++
			cur.Children = append(cur.Children, p.list())
			first = false
		case c >= '0' && c <= '9':
			j := p.i
			for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
				j++
			}
			n, _ := strconv.ParseUint(p.s[p.i:j], 10, 32)
			p.i = j
			if first {
				head.UID, first = uint32(n), false
				continue
			}
			next := &ThreadNode{UID: uint32(n)}
			cur.Children = append(cur.Children, next)
			cur = next
		default:
			p.i++
		}
	}
}

// Ident is what names a message across servers: its Message-ID, Subject
// and Date.
type Ident struct{ MessageID, Subject, Date string }

// FetchIdents maps the selected mailbox's UIDs to their messages'
// Message-ID and Subject.
func FetchIdents(c *Client) (map[uint32]Ident, error) {
	lines, err := c.OK("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID SUBJECT DATE)])")
	if err != nil {
		return nil, err
	}
	out := make(map[uint32]Ident, len(lines))
	for _, l := range lines {
		uid, ok := fetchUID(l)
		if !ok {
			continue
		}
		out[uid] = Ident{MessageID: headerValue(l, "Message-ID"), Subject: headerValue(l, "Subject"), Date: headerValue(l, "Date")}
	}
	return out, nil
}

// fetchUID is the UID item of a FETCH response line.
func fetchUID(l string) (uint32, bool) {
	f := strings.Fields(l)
	if len(f) < 3 || !strings.EqualFold(f[2], "FETCH") {
		return 0, false
	}
	for i := 3; i+1 < len(f); i++ {
		if strings.EqualFold(strings.TrimPrefix(f[i], "("), "UID") {
			n, err := strconv.ParseUint(strings.TrimRight(f[i+1], ")"), 10, 32)
			return uint32(n), err == nil
		}
	}
	return 0, false
}

// headerValue is the unfolded value of the header field name in s (a
// FETCH line with its literal inline), or "".
func headerValue(s, name string) string {
	i := indexFold(s, "\n"+name+":")
	if i < 0 {
		i = indexFold(s, "}"+name+":")
	}
	if i < 0 {
		return ""
	}
	v := s[i+len(name)+2:]
	end := 0
	for {
		j := strings.Index(v[end:], "\r\n")
		if j < 0 {
			end = len(v)
			break
		}
		end += j
		if end+2 < len(v) && (v[end+2] == ' ' || v[end+2] == '\t') {
			end += 2
			continue
		}
		break
	}
	return strings.Join(strings.Fields(v[:end]), " ")
}

// Describe writes t with each UID replaced by its message's Message-ID
// and a dummy as "-": "<1.x> (<4.x> <9.x>)(-)" — the same text for the
// same tree on any server.
func Describe(t *ThreadNode, ids map[uint32]Ident) string {
	var b strings.Builder
	var walk func(n *ThreadNode)
	walk = func(n *ThreadNode) {
		if n.UID == 0 {
			b.WriteString("-")
		} else if id, ok := ids[n.UID]; ok {
			b.WriteString(id.MessageID)
		} else {
			fmt.Fprintf(&b, "uid%d", n.UID)
		}
		if len(n.Children) > 0 {
			b.WriteString(" (")
			for k, c := range n.Children {
				if k > 0 {
					b.WriteString(")(")
				}
				walk(c)
			}
			b.WriteString(")")
		}
	}
	walk(t)
	return b.String()
}

// ThreadSide is one server's THREAD answer over its mailbox.
type ThreadSide struct {
	Label   string
	Threads []*ThreadNode
	Idents  map[uint32]Ident
}

// ReadThreadSide selects INBOX on addr, runs `UID THREAD REFERENCES
// UTF-8 ALL` and maps its UIDs to messages.
func ReadThreadSide(ctx context.Context, label, addr, user, pass string) (ThreadSide, error) {
	c, err := Dial(ctx, addr, user, pass)
	if err != nil {
		return ThreadSide{}, err
	}
	defer c.Close()
	if _, err := c.OK("SELECT INBOX"); err != nil {
		return ThreadSide{}, fmt.Errorf("%s: %w", label, err)
	}
	lines, err := c.OK("UID THREAD REFERENCES UTF-8 ALL")
	if err != nil {
		return ThreadSide{}, fmt.Errorf("%s: %w", label, err)
	}
	s := ThreadSide{Label: label}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) >= 2 && strings.EqualFold(f[1], "THREAD") {
			s.Threads = append(s.Threads, ParseThreads(l)...)
		}
	}
	if s.Idents, err = FetchIdents(c); err != nil {
		return ThreadSide{}, fmt.Errorf("%s: %w", label, err)
	}
	return s, nil
}

// WriteThreadDiff writes what differs between two servers' THREAD
// answers, by Message-ID: the messages only one mailbox holds, then the
// top-level threads only one answer has (with each root's subject). It
// returns how many threads differ.
func WriteThreadDiff(w io.Writer, a, b ThreadSide) int {
	fmt.Fprintf(w, "%s: %d messages, %d threads; %s: %d messages, %d threads\n",
		a.Label, len(a.Idents), len(a.Threads), b.Label, len(b.Idents), len(b.Threads))
	has := func(s ThreadSide) map[string]bool {
		m := make(map[string]bool, len(s.Idents))
		for _, id := range s.Idents {
			m[id.MessageID] = true
		}
		return m
	}
	ha, hb := has(a), has(b)
	only := func(x ThreadSide, other map[string]bool) []string {
		var out []string
		for _, id := range x.Idents {
			if !other[id.MessageID] {
				out = append(out, id.MessageID+" "+strconv.Quote(id.Subject))
			}
		}
		slices.Sort(out)
		return out
	}
	for _, p := range []struct {
		x     ThreadSide
		other map[string]bool
		name  string
	}{{a, hb, b.Label}, {b, ha, a.Label}} {
		o := only(p.x, p.other)
		fmt.Fprintf(w, "\nmessages in %s's mailbox, not in %s's: %d\n", p.x.Label, p.name, len(o))
		for _, l := range o {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	desc := func(s ThreadSide) map[string]bool {
		m := make(map[string]bool, len(s.Threads))
		for _, t := range s.Threads {
			m[Describe(t, s.Idents)] = true
		}
		return m
	}
	da, db := desc(a), desc(b)
	diff := 0
	for _, p := range []struct {
		x     ThreadSide
		other map[string]bool
		name  string
	}{{a, db, b.Label}, {b, da, a.Label}} {
		var o []string
		for _, t := range p.x.Threads {
			d := Describe(t, p.x.Idents)
			if !p.other[d] {
				root := t
				for root.UID == 0 && len(root.Children) > 0 {
					root = root.Children[0]
				}
				o = append(o, d+"   subject "+strconv.Quote(p.x.Idents[root.UID].Subject))
			}
		}
		diff += len(o)
		fmt.Fprintf(w, "\nthreads in %s's answer, not in %s's: %d\n", p.x.Label, p.name, len(o))
		for _, l := range o {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	if diff == 0 {
		writeOrderDiff(w, a, b)
	}
	return diff
}

// writeOrderDiff writes where two answers with the same threads order
// them differently: the first positions, with each thread's first
// message's UID and Date on both sides.
func writeOrderDiff(w io.Writer, a, b ThreadSide) {
	root := func(s ThreadSide, t *ThreadNode) string {
		for t.UID == 0 && len(t.Children) > 0 {
			t = t.Children[0]
		}
		id := s.Idents[t.UID]
		return fmt.Sprintf("uid %d %s %s", t.UID, id.MessageID, id.Date)
	}
	shown := 0
	for k := range a.Threads {
		if Describe(a.Threads[k], a.Idents) == Describe(b.Threads[k], b.Idents) {
			continue
		}
		if shown == 0 {
			fmt.Fprintf(w, "\norder of the threads differs (%s | %s):\n", a.Label, b.Label)
		}
		if shown++; shown > 20 {
			fmt.Fprintln(w, "  …")
			return
		}
		fmt.Fprintf(w, "  #%d: %s | %s\n", k+1, root(a, a.Threads[k]), root(b, b.Threads[k]))
	}
	if shown == 0 {
		fmt.Fprintln(w, "\norder of the threads: the same")
	}
}

// ReplayMutations does to cfg's mailbox what Run's resync cases do
// before THREAD runs: rounds+1 rounds of the QRESYNC case's changes, then
// as many of the plain resync's, with the same seeds.
func ReplayMutations(ctx context.Context, cfg Config, rounds int) error {
	if cfg.FlagChanges == 0 {
		cfg.FlagChanges = 100
	}
	if cfg.Expunges == 0 {
		cfg.Expunges = 10
	}
	var err error
	if cfg.ids, err = messageIDs(ctx, cfg); err != nil {
		return fmt.Errorf("%s: %w", cfg.Label, err)
	}
	for _, seed := range [][2]uint64{{1, 7162}, {2, 3501}} {
		rng := rand.New(rand.NewPCG(seed[0], seed[1]))
		for range rounds + 1 {
			if err := mutate(ctx, cfg, rng); err != nil {
				return fmt.Errorf("%s: %w", cfg.Label, err)
			}
		}
	}
	return nil
}
