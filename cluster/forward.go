package cluster

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"
)

// Forwarding: a follower sends the leader a whole encoded entry; the leader
// appends it to the Raft log and answers with the entry's index and the
// state machine's results once it has committed and applied it. The follower
// then waits until it has applied that index itself before answering its
// caller (read-your-writes on the node a client talks to).
//
// Request:  u32 length, entry bytes.
// Receipt:  one byte, fwdReceived, sent as soon as the whole request is read
//
//	and before the entry is handed to Raft.
//
// Response: u8 status, u64 index, u32 length, payload (results or message).
//
// The receipt tells the two kinds of broken connection apart: one the
// leader closed before reading the entry (it restarted since the
// connection was pooled: safe to send again) and one that broke after
// (the entry may be committed: the outcome is unknown).
const fwdReceived byte = 'A'

const (
	fwdOK byte = iota
	fwdNotLeader
	fwdNoQuorum
	fwdShutdown
	fwdTooLarge
	fwdFailed
	fwdInsufficientStorage // the leader is low on disk space; not appended
)

// errNotSent marks a forwarding failure that happened before the leader can
// have seen the entry: retrying it cannot duplicate anything.
var errNotSent = errors.New("cluster: entry not sent")

// errNotLeader is the leader's answer when it lost leadership before
// appending the entry; retrying with the new leader is safe.
var errNotLeader = errors.New("cluster: peer is not the leader")

// errLeaderLowStorage is the leader's answer when it is low on disk space
// and did not append the entry: retrying is safe, and worth it for a
// moment while the leader hands over (see submit).
var errLeaderLowStorage = fmt.Errorf("%w: the leader is low on disk space", ErrInsufficientStorage)

type forwarder struct {
	mux     *mux
	timeout time.Duration

	mu   sync.Mutex
	idle map[string][]*fwdConn
	// busy are the connections with a forward in flight, by leader address,
	// so that a change of leader can cut the waits on the old one short.
	busy map[string]map[*fwdConn]struct{}
}

type fwdConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func newForwarder(m *mux, timeout time.Duration) *forwarder {
	return &forwarder{mux: m, timeout: timeout, idle: map[string][]*fwdConn{}, busy: map[string]map[*fwdConn]struct{}{}}
}

func (f *forwarder) get(addr string) (*fwdConn, error) {
	for {
		f.mu.Lock()
		conns := f.idle[addr]
		if len(conns) == 0 {
			f.mu.Unlock()
			break
		}
		c := conns[len(conns)-1]
		f.idle[addr] = conns[:len(conns)-1]
		f.mu.Unlock()
		if c.alive() {
			return c, nil
		}
		c.Close()
	}
	conn, err := f.mux.dial(addr, streamForward, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &fwdConn{Conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: bufio.NewWriterSize(conn, 64<<10)}, nil
}

// alive reports whether a pooled connection still looks open: the leader
// sends nothing unasked, so a read that does not time out at once found
// the connection closed (the leader restarted since) or broken. Catching
// that here, before the entry is sent, keeps a stale connection from
// turning into an unknown outcome (see forward).
func (c *fwdConn) alive() bool {
	if c.r.Buffered() > 0 {
		return false
	}
	_ = c.SetReadDeadline(time.Now())
	_, err := c.r.Peek(1)
	var ne net.Error
	ok := errors.As(err, &ne) && ne.Timeout()
	_ = c.SetReadDeadline(time.Time{})
	return ok
}

// track and untrack record a forward in flight on c.
func (f *forwarder) track(addr string, c *fwdConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.busy[addr] == nil {
		f.busy[addr] = map[*fwdConn]struct{}{}
	}
	f.busy[addr][c] = struct{}{}
}

func (f *forwarder) untrack(addr string, c *fwdConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.busy[addr], c)
	if len(f.busy[addr]) == 0 {
		delete(f.busy, addr)
	}
}

// leaderChanged cuts short every forward waiting on a node that is no
// longer the leader as this node sees it (leader is "" during an
// election), and drops idle connections to it. Such a forward would
// otherwise wait out its whole deadline on a dead or partitioned leader,
// holding one of the node's few in-flight proposal slots: after a leader
// was cut off, the majority acknowledged nothing for ~10 s although a new
// leader was elected in well under one. The cut forwards' outcome is
// unknown (the old leader may have appended them), so their callers get
// ErrNoQuorum, a temporary error, at once.
func (f *forwarder) leaderChanged(leader string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for addr, conns := range f.busy {
		if addr == leader {
			continue
		}
		for c := range conns {
			c.Close()
		}
	}
	for addr, conns := range f.idle {
		if addr == leader {
			continue
		}
		for _, c := range conns {
			c.Close()
		}
		delete(f.idle, addr)
	}
}

func (f *forwarder) put(addr string, c *fwdConn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.idle[addr]) >= 16 {
		c.Close()
		return
	}
	f.idle[addr] = append(f.idle[addr], c)
}

func (f *forwarder) closeAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for addr, conns := range f.idle {
		for _, c := range conns {
			c.Close()
		}
		delete(f.idle, addr)
	}
}

// forward sends entry to the leader at addr and returns its index and results.
func (f *forwarder) forward(addr string, entry []byte) (uint64, [][]byte, error) {
	c, err := f.get(addr)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errNotSent, err)
	}
	f.track(addr, c)
	defer f.untrack(addr, c)
	_ = c.SetDeadline(time.Now().Add(f.timeout))
	var hdr [4]byte
	binary.BigEndian.PutUint32(hdr[:], uint32(len(entry)))
	_, err = c.w.Write(hdr[:])
	if err == nil {
		_, err = c.w.Write(entry)
	}
	if err == nil {
		err = c.w.Flush()
	}
	if err != nil {
		c.Close()
		return 0, nil, fmt.Errorf("%w: write to leader %s: %w", errNotSent, addr, err)
	}
	// Only a clean end of stream before the receipt proves the leader did
	// not take the entry: it writes the receipt before handing the entry
	// to Raft, and a close after that delivers the receipt first. A reset
	// or a timeout proves nothing — a reset discards a receipt already on
	// its way — so the outcome is unknown (ErrNoQuorum). submit then sends
	// the entry again: its proposals' idempotency keys make the state
	// machine apply a copy that already committed only once (before the
	// keys, the partition tests saw acknowledged mail delivered twice).
	if b, err := c.r.ReadByte(); err != nil || b != fwdReceived {
		c.Close()
		switch {
		case errors.Is(err, io.EOF):
			return 0, nil, fmt.Errorf("%w: leader %s closed the connection before taking the entry", errNotSent, addr)
		case err == nil:
			return 0, nil, fmt.Errorf("leader %s: unexpected receipt byte %d", addr, b)
		default:
			return 0, nil, fmt.Errorf("%w: lost contact with leader %s before its receipt: %w", ErrNoQuorum, addr, err)
		}
	}
	status, index, payload, err := readResponse(c.r)
	if err != nil {
		c.Close()
		return 0, nil, fmt.Errorf("%w: lost contact with leader %s: %w", ErrNoQuorum, addr, err)
	}
	_ = c.SetDeadline(time.Time{})
	f.put(addr, c)
	switch status {
	case fwdOK:
		results, err := decodeItems(payload)
		if err != nil {
			return 0, nil, fmt.Errorf("leader %s sent bad results: %w", addr, err)
		}
		return index, results, nil
	case fwdNotLeader:
		return 0, nil, errNotLeader
	case fwdNoQuorum:
		return 0, nil, fmt.Errorf("%w: %s", ErrNoQuorum, payload)
	case fwdShutdown:
		return 0, nil, fmt.Errorf("%w: leader %s is shutting down", ErrNoQuorum, addr)
	case fwdTooLarge:
		return 0, nil, ErrTooLarge
	case fwdInsufficientStorage:
		return 0, nil, fmt.Errorf("%w (%s): %s", errLeaderLowStorage, addr, payload)
	default:
		return 0, nil, fmt.Errorf("leader %s: %s", addr, payload)
	}
}

func readResponse(r *bufio.Reader) (status byte, index uint64, payload []byte, err error) {
	var hdr [13]byte
	if _, err = io.ReadFull(r, hdr[:]); err != nil {
		return 0, 0, nil, err
	}
	status = hdr[0]
	index = binary.BigEndian.Uint64(hdr[1:9])
	n := binary.BigEndian.Uint32(hdr[9:13])
	if n > maxEntryBytes*2 {
		return 0, 0, nil, fmt.Errorf("response of %d bytes is too large", n)
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return 0, 0, nil, fmt.Errorf("read response: %w", io.ErrUnexpectedEOF)
	}
	return status, index, payload, nil
}

// serveForward answers forwarded entries on one connection, one at a time.
func (n *Node) serveForward(conn net.Conn) {
	defer conn.Close()
	r := bufio.NewReaderSize(conn, 64<<10)
	w := bufio.NewWriterSize(conn, 64<<10)
	for {
		var hdr [4]byte
		if _, err := io.ReadFull(r, hdr[:]); err != nil {
			return
		}
		size := binary.BigEndian.Uint32(hdr[:])
		if size > maxEntryBytes {
			n.log.Warn("forwarded entry too large", "size", size)
			return
		}
		entry := make([]byte, size)
		if _, err := io.ReadFull(r, entry); err != nil {
			return
		}
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := w.WriteByte(fwdReceived); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
		status, index, payload := n.applyForwarded(entry)
		if n.testDropAnswers.Load() > 0 && n.testDropAnswers.Add(-1) >= 0 {
			return // a test's lost answer: the entry is committed, the follower is not told
		}
		var out [13]byte
		out[0] = status
		binary.BigEndian.PutUint64(out[1:9], index)
		binary.BigEndian.PutUint32(out[9:13], uint32(len(payload)))
		_ = conn.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if _, err := w.Write(out[:]); err != nil {
			return
		}
		if _, err := w.Write(payload); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
		_ = conn.SetWriteDeadline(time.Time{})
	}
}

func (n *Node) applyForwarded(entry []byte) (byte, uint64, []byte) {
	if _, err := decodeEntry(entry); err != nil {
		return fwdFailed, 0, []byte(err.Error())
	}
	if n.guard.refusing() && n.IsLeader() {
		// Not appended; the storage guard is handing leadership over.
		return fwdInsufficientStorage, 0, []byte(n.guard.describe())
	}
	index, results, err := n.applyAsLeader(entry)
	switch {
	case err == nil:
		return fwdOK, index, encodeItems(results)
	case errors.Is(err, errNotLeader):
		return fwdNotLeader, 0, nil
	case errors.Is(err, ErrShutdown):
		return fwdShutdown, 0, nil
	case errors.Is(err, ErrNoQuorum):
		return fwdNoQuorum, 0, []byte(err.Error())
	default:
		return fwdFailed, 0, []byte(err.Error())
	}
}

// applyAsLeader appends entry to the Raft log on this node, which must lead,
// and returns its index and results once committed and applied here.
func (n *Node) applyAsLeader(entry []byte) (uint64, [][]byte, error) {
	future := n.raft.Apply(entry, n.cfg.ProposeTimeout)
	// An entry still queued inside raft when it shuts down never gets an
	// answer, so do not wait on the future past this node's own stop.
	done := make(chan error, 1)
	go func() { done <- future.Error() }()
	var err error
	select {
	case err = <-done:
	case <-n.stop:
		return 0, nil, fmt.Errorf("%w: node stopped while the entry was in flight", ErrShutdown)
	}
	if err != nil {
		switch {
		case errors.Is(err, raft.ErrNotLeader), errors.Is(err, raft.ErrLeadershipTransferInProgress):
			// Not appended: safe to retry with the next leader.
			return 0, nil, errNotLeader
		case errors.Is(err, raft.ErrRaftShutdown):
			return 0, nil, ErrShutdown
		case errors.Is(err, raft.ErrLeadershipLost), errors.Is(err, raft.ErrEnqueueTimeout):
			return 0, nil, fmt.Errorf("%w: %w", ErrNoQuorum, err)
		default:
			return 0, nil, fmt.Errorf("raft apply: %w", err)
		}
	}
	switch resp := future.Response().(type) {
	case *applyResult:
		return resp.index, resp.results, nil
	case error:
		return 0, nil, resp
	default:
		return 0, nil, fmt.Errorf("raft apply: unexpected response %T", resp)
	}
}
