package faults

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
)

// LinWorkload runs IMAP clients, each on its own connection (to different
// nodes), doing APPEND, UID STORE, UID FETCH FLAGS and UID SEARCH ALL on
// one mailbox and recording every operation in a History for the check
// described with MailboxModel.
type LinWorkload struct {
	Account Account
	Mailbox string
	Clients int
	// Target returns the IMAP listener client k uses for its attempt-th
	// connection (attempts count from 0); false when no node is up.
	Target func(client, attempt int) (Target, bool)
	// History receives the operations.
	History *History
	// RunID makes Message-IDs unique across runs.
	RunID string
	// OpTimeout bounds one command (default 20 s); a command that takes
	// longer has its connection closed and an unknown outcome.
	OpTimeout time.Duration
	// Seed makes the operation mix reproducible (per client: Seed+k).
	Seed uint64
}

// LinStats counts what a workload did.
type LinStats struct {
	Ops        map[string]int // by kind and outcome, e.g. "append ok"
	Reconnects int
	// Problems are answers that are wrong on their own, whatever the
	// interleaving: an APPEND without APPENDUID, UIDVALIDITY differing
	// between sessions.
	Problems []string
}

func (s *LinStats) add(o LinStats) {
	if s.Ops == nil {
		s.Ops = map[string]int{}
	}
	for k, v := range o.Ops {
		s.Ops[k] += v
	}
	s.Reconnects += o.Reconnects
	s.Problems = append(s.Problems, o.Problems...)
}

// CreateMailbox creates the workload's mailbox through t.
func (w *LinWorkload) CreateMailbox(ctx context.Context, t Target) error {
	c, err := DialIMAP(ctx, t, w.Account)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Create(w.Mailbox, nil).Wait(); err != nil {
		return fmt.Errorf("create %s at %s: %w", w.Mailbox, t.Node, err)
	}
	_ = c.Logout().Wait()
	return nil
}

// Run runs the clients until ctx is done; operations in flight then
// complete before it returns.
func (w *LinWorkload) Run(ctx context.Context) LinStats {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total LinStats
		uidv  = &uidValidity{}
	)
	for k := range w.Clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lc := &linClient{w: w, id: k, rng: rand.New(rand.NewPCG(w.Seed, uint64(k))), uidv: uidv,
				stats: LinStats{Ops: map[string]int{}}}
			lc.run(ctx)
			mu.Lock()
			total.add(lc.stats)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return total
}

// uidValidity is the first UIDVALIDITY any session saw; every other must
// equal it.
type uidValidity struct {
	mu    sync.Mutex
	value uint32
	node  string
}

func (u *uidValidity) check(v uint32, node string) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.value == 0 {
		u.value, u.node = v, node
		return nil
	}
	if v != u.value {
		return fmt.Errorf("UIDVALIDITY %d on %s, %d on %s", v, node, u.value, u.node)
	}
	return nil
}

type linClient struct {
	w       *LinWorkload
	id      int
	rng     *rand.Rand
	uidv    *uidValidity
	c       *imapclient.Client
	node    string
	attempt int
	seq     int
	known   []uint32 // UIDs this client's sessions have seen, ascending
	stats   LinStats
}

func (lc *linClient) opTimeout() time.Duration {
	if lc.w.OpTimeout > 0 {
		return lc.w.OpTimeout
	}
	return 20 * time.Second
}

func (lc *linClient) run(ctx context.Context) {
	defer lc.disconnect()
	for ctx.Err() == nil {
		if lc.c == nil {
			if err := lc.connect(ctx); err != nil {
				lc.disconnect()
				sleepCtx(ctx, 50*time.Millisecond)
				continue
			}
		}
		var err error
		switch r := lc.rng.IntN(100); {
		case len(lc.known) == 0 || r < 25:
			err = lc.append()
		case r < 55:
			err = lc.store()
		case r < 70:
			err = lc.fetch(true)
		case r < 82:
			err = lc.search()
		default:
			err = lc.fetch(false)
		}
		if err != nil && !isIMAPStatus(err) {
			lc.disconnect() // the connection is gone: start a new session
		}
	}
}

// connect opens a session on the client's next target, selects the
// mailbox and fences, so the new session's view holds every UID the
// client knew (see MailboxModel).
func (lc *linClient) connect(ctx context.Context) error {
	t, ok := lc.w.Target(lc.id, lc.attempt)
	lc.attempt++
	if !ok {
		return errors.New("no node up")
	}
	if lc.attempt > 1 {
		lc.stats.Reconnects++
	}
	// Operations in flight when ctx ends still complete: the connection
	// outlives ctx and is closed by run.
	c, err := DialIMAP(context.WithoutCancel(ctx), t, lc.w.Account)
	if err != nil {
		return err
	}
	lc.c, lc.node = c, t.Node
	var sel *imap.SelectData
	if err := lc.do(func() (err error) {
		sel, err = c.Select(lc.w.Mailbox, nil).Wait()
		return err
	}); err != nil {
		return fmt.Errorf("select %s on %s: %w", lc.w.Mailbox, t.Node, err)
	}
	if err := lc.uidv.check(sel.UIDValidity, t.Node); err != nil {
		lc.stats.Problems = append(lc.stats.Problems, err.Error())
	}
	if err := lc.fence(); err != nil {
		return fmt.Errorf("fence on %s: %w", t.Node, err)
	}
	return nil
}

func (lc *linClient) disconnect() {
	if lc.c != nil {
		lc.c.Close()
		lc.c = nil
	}
}

// do runs one command, closing the connection if it takes longer than
// the operation timeout (the command then fails).
func (lc *linClient) do(f func() error) error {
	c := lc.c
	t := time.AfterFunc(lc.opTimeout(), func() { c.Close() })
	defer t.Stop()
	return f()
}

// fence is a write that always proposes an event (SUBSCRIBE): once it is
// answered, this node has applied everything committed before it was sent,
// and the command's closing poll has brought the session's view there.
func (lc *linClient) fence() error {
	return lc.do(func() error { return lc.c.Subscribe(lc.w.Mailbox).Wait() })
}

func (lc *linClient) count(what string, err error) {
	switch {
	case err == nil:
		lc.stats.Ops[what+" ok"]++
	case isIMAPStatus(err):
		lc.stats.Ops[what+" NO"]++
	default:
		lc.stats.Ops[what+" lost"]++
	}
}

func (lc *linClient) meta() OpMeta { return OpMeta{Client: lc.id, Node: lc.node} }

// randomFlags draws a random set of at least atLeast model flags.
func (lc *linClient) randomFlags(atLeast int) FlagSet {
	for {
		var f FlagSet
		for i := range modelFlags {
			if lc.rng.IntN(3) == 0 {
				f |= 1 << i
			}
		}
		if countBits(f) >= atLeast {
			return f
		}
	}
}

func countBits(f FlagSet) int {
	n := 0
	for ; f != 0; f &= f - 1 {
		n++
	}
	return n
}

func imapFlags(f FlagSet) []imap.Flag {
	names := f.Names()
	out := make([]imap.Flag, len(names))
	for i, n := range names {
		out[i] = imap.Flag(n)
	}
	return out
}

func (lc *linClient) append() error {
	h := lc.w.History
	lc.seq++
	meta := lc.meta()
	meta.MessageID = fmt.Sprintf("<lin.%s.%s.c%d.%06d@faults.test>", lc.w.RunID, lc.w.Mailbox, lc.id, lc.seq)
	body := fmt.Sprintf("From: lin@faults.test\r\nMessage-ID: %s\r\nSubject: %s\r\n\r\nAppended by client %d via %s.\r\n",
		meta.MessageID, meta.MessageID, lc.id, lc.node)
	flags := lc.randomFlags(0)
	var data *imap.AppendData
	call := h.Now()
	err := lc.do(func() error {
		cmd := lc.c.Append(lc.w.Mailbox, int64(len(body)), &imap.AppendOptions{Flags: imapFlags(flags)})
		if _, err := cmd.Write([]byte(body)); err != nil {
			cmd.Close()
			return err
		}
		if err := cmd.Close(); err != nil {
			return err
		}
		var err error
		data, err = cmd.Wait()
		return err
	})
	ret := h.Now()
	lc.count("append", err)
	in := LinInput{Kind: OpAppend, Flags: flags}
	if err != nil {
		h.Add(meta, in, LinOutput{Unknown: true, Detail: lc.node + ": " + err.Error()}, call, ret)
		return err
	}
	if data == nil || data.UID == 0 {
		lc.stats.Problems = append(lc.stats.Problems, fmt.Sprintf("APPEND %s on %s: OK without APPENDUID", meta.MessageID, lc.node))
		h.Add(meta, in, LinOutput{Unknown: true, Detail: lc.node + ": no APPENDUID"}, call, ret)
		return nil
	}
	if err := lc.uidv.check(data.UIDValidity, lc.node+" (APPENDUID)"); err != nil {
		lc.stats.Problems = append(lc.stats.Problems, err.Error())
	}
	in.UID = uint32(data.UID)
	lc.learn(in.UID)
	h.Add(meta, in, LinOutput{Detail: lc.node}, call, ret)
	return nil
}

func (lc *linClient) pick() uint32 { return lc.known[lc.rng.IntN(len(lc.known))] }

func (lc *linClient) store() error {
	h := lc.w.History
	uid := lc.pick()
	mode := StoreMode(1 + lc.rng.IntN(3))
	atLeast := 1 // +FLAGS () and -FLAGS () change nothing
	if mode == StoreReplace {
		atLeast = 0
	}
	flags := lc.randomFlags(atLeast)
	op := map[StoreMode]imap.StoreFlagsOp{StoreAdd: imap.StoreFlagsAdd, StoreRemove: imap.StoreFlagsDel, StoreReplace: imap.StoreFlagsSet}[mode]
	call := h.Now()
	err := lc.do(func() error {
		return lc.c.Store(imap.UIDSetNum(imap.UID(uid)), &imap.StoreFlags{Op: op, Silent: true, Flags: imapFlags(flags)}, nil).Close()
	})
	ret := h.Now()
	lc.count("store", err)
	in := LinInput{Kind: OpStore, UID: uid, Mode: mode, Flags: flags}
	out := LinOutput{Detail: lc.node}
	if err != nil {
		out = LinOutput{Unknown: true, Detail: lc.node + ": " + err.Error()}
	}
	h.Add(lc.meta(), in, out, call, ret)
	return err
}

// fetch reads one known message's flags, after a fence when fenced.
func (lc *linClient) fetch(fenced bool) error {
	h := lc.w.History
	uid := lc.pick()
	call := h.Now()
	if fenced {
		if err := lc.fence(); err != nil {
			lc.count("fence", err)
			return err
		}
	}
	var msgs []*imapclient.FetchMessageBuffer
	err := lc.do(func() (err error) {
		msgs, err = lc.c.Fetch(imap.UIDSetNum(imap.UID(uid)), &imap.FetchOptions{UID: true, Flags: true}).Collect()
		return err
	})
	ret := h.Now()
	what := "fetch"
	if !fenced {
		what = "unfenced fetch"
	}
	lc.count(what, err)
	if err != nil {
		return err // a read without an answer tells nothing: not recorded
	}
	out := LinOutput{Detail: lc.node}
	for _, m := range msgs {
		if uint32(m.UID) != uid {
			continue
		}
		out.Found = true
		names := make([]string, len(m.Flags))
		for i, f := range m.Flags {
			names[i] = string(f)
		}
		out.Flags = FlagSetOf(names)
	}
	meta := lc.meta()
	meta.Fenced = fenced
	h.Add(meta, LinInput{Kind: OpFetch, UID: uid}, out, call, ret)
	return nil
}

// search lists the mailbox's UIDs after a fence, and learns them.
func (lc *linClient) search() error {
	h := lc.w.History
	call := h.Now()
	if err := lc.fence(); err != nil {
		lc.count("fence", err)
		return err
	}
	var data *imap.SearchData
	err := lc.do(func() (err error) {
		data, err = lc.c.UIDSearch(&imap.SearchCriteria{}, nil).Wait()
		return err
	})
	ret := h.Now()
	lc.count("search", err)
	if err != nil {
		return err
	}
	var uids []uint32
	for _, u := range data.AllUIDs() {
		uids = append(uids, uint32(u))
	}
	slices.Sort(uids)
	for _, u := range uids {
		lc.learn(u)
	}
	meta := lc.meta()
	meta.Fenced = true
	h.Add(meta, LinInput{Kind: OpSearch}, LinOutput{UIDs: uids, Detail: lc.node}, call, ret)
	return nil
}

func (lc *linClient) learn(uid uint32) {
	i, found := slices.BinarySearch(lc.known, uid)
	if !found {
		lc.known = slices.Insert(lc.known, i, uid)
	}
}

// isIMAPStatus reports whether err is a tagged NO or BAD: the server
// answered and the connection is still usable.
func isIMAPStatus(err error) bool {
	var ie *imap.Error
	return errors.As(err, &ie)
}
