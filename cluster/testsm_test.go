package cluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sync"
)

// memSM is a small, complete StateMachine for the cluster's own tests: it
// records every applied proposal in order, and remembers each key's
// result as the real state machine does (without its window). It is in
// memory, so tests that restart a node give it a fresh one and let
// snapshots and log replay rebuild it.
type memSM struct {
	mu      sync.Mutex
	applied uint64
	done    uint32 // proposals applied of entry `applied`
	order   []string
	keys    map[string]string // idempotency key -> result
}

func (m *memSM) ApplyEntry(index uint64, proposals []Proposal) [][]byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([][]byte, len(proposals))
	if index < m.applied {
		return out
	}
	skip := uint32(0)
	if index == m.applied {
		skip = m.done
	}
	if m.keys == nil {
		m.keys = map[string]string{}
	}
	for i, p := range proposals {
		if uint32(i) < skip {
			continue
		}
		if r, ok := m.keys[string(p.Key)]; ok && p.Key != nil {
			out[i] = []byte(r)
			continue
		}
		m.order = append(m.order, string(p.Data))
		out[i] = fmt.Appendf(nil, "%d:%s", len(m.order), p.Data)
		if p.Key != nil {
			m.keys[string(p.Key)] = string(out[i])
		}
	}
	m.applied, m.done = index, uint32(len(proposals))
	return out
}

func (m *memSM) AppliedIndex() uint64 {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.applied
}

type memState struct {
	Applied uint64
	Done    uint32
	Order   []string
	Keys    map[string]string
}

type memCheckpoint struct{ data []byte }

func (c memCheckpoint) WriteTo(w io.Writer) (int64, error) {
	n, err := w.Write(c.data)
	return int64(n), err
}
func (c memCheckpoint) Release() {}

func (m *memSM) Checkpoint() (Checkpoint, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, err := json.Marshal(memState{Applied: m.applied, Done: m.done, Order: m.order, Keys: m.keys})
	return memCheckpoint{data: data}, err
}

func (m *memSM) Restore(r io.Reader) error {
	var st memState
	if err := json.NewDecoder(r).Decode(&st); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.applied, m.done, m.order, m.keys = st.Applied, st.Done, st.Order, st.Keys
	return nil
}

func (m *memSM) snapshot() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.order...)
}

func (m *memSM) digest() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return fmt.Sprintf("%d/%x", len(m.order), bytes.Join(toBytes(m.order), []byte{0}))
}

func toBytes(ss []string) [][]byte {
	out := make([][]byte, len(ss))
	for i, s := range ss {
		out[i] = []byte(s)
	}
	return out
}
