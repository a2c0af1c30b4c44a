package bayes

import "sync"

// memModel is an in-memory Model trained the way mailbox applies
// SpamTrained (without retrain), for tests of the arithmetic and quality.
type memModel struct {
	mu     sync.Mutex
	counts map[string]map[uint64]Counts
	totals map[string]Totals
}

func newMemModel() *memModel {
	return &memModel{counts: map[string]map[uint64]Counts{}, totals: map[string]Totals{}}
}

func (m *memModel) train(user string, spam bool, tokens []uint64) {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := m.counts[user]
	if c == nil {
		c = map[uint64]Counts{}
		m.counts[user] = c
	}
	t := m.totals[user]
	for _, tok := range tokens {
		x := c[tok]
		if spam {
			x.Spam++
		} else {
			x.Ham++
		}
		c[tok] = x
	}
	if spam {
		t.Spam++
	} else {
		t.Ham++
	}
	m.totals[user] = t
}

func (m *memModel) SpamCounts(user string, tokens []uint64) ([]Counts, Totals, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Counts, len(tokens))
	for i, tok := range tokens {
		out[i] = m.counts[user][tok]
	}
	return out, m.totals[user], nil
}
