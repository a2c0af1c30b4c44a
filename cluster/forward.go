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
}

type fwdConn struct {
	net.Conn
	r *bufio.Reader
	w *bufio.Writer
}

func newForwarder(m *mux, timeout time.Duration) *forwarder {
	return &forwarder{mux: m, timeout: timeout, idle: map[string][]*fwdConn{}}
}

func (f *forwarder) get(addr string) (*fwdConn, error) {
	f.mu.Lock()
	if conns := f.idle[addr]; len(conns) > 0 {
		c := conns[len(conns)-1]
		f.idle[addr] = conns[:len(conns)-1]
		f.mu.Unlock()
		return c, nil
	}
	f.mu.Unlock()
	conn, err := f.mux.dial(addr, streamForward, 2*time.Second)
	if err != nil {
		return nil, err
	}
	return &fwdConn{Conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: bufio.NewWriterSize(conn, 64<<10)}, nil
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
	if b, err := c.r.ReadByte(); err != nil || b != fwdReceived {
		c.Close()
		if err == nil {
			err = fmt.Errorf("unexpected receipt byte %d", b)
		}
		return 0, nil, fmt.Errorf("%w: leader %s did not take the entry: %w", errNotSent, addr, err)
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
			n.log.Warn("forwarded entry too large", "bytes", size)
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
	if _, err := decodeItems(entry); err != nil {
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
