package outbound

import (
	"context"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

// collectStore is a Store with only what the collector reads.
type collectStore struct {
	Store
	applied  uint64
	before   uint64
	now      int64
	hashes   [][]byte
	expired  int // uploads pinned until before uploadsBefore
	upBefore int64
}

func (s *collectStore) UploadsPinnedBefore(before int64) (int, error) {
	s.upBefore = before
	return s.expired, nil
}

func (s *collectStore) AppliedIndex() uint64      { return s.applied }
func (s *collectStore) QueueLength() (int, error) { return 0, nil }
func (s *collectStore) UnreferencedBlobs(before uint64, now int64, _ int) ([][]byte, error) {
	s.before, s.now = before, now
	return s.hashes, nil
}

type recordingCluster struct {
	mu     sync.Mutex
	events []*evlog.Event
}

func (c *recordingCluster) IsLeader() bool { return true }
func (c *recordingCluster) Ready() bool    { return true }
func (c *recordingCluster) Propose(_ context.Context, p []byte) ([]byte, error) {
	b, err := evlog.DecodeBatch(p)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.events = append(c.events, b.GetEvents()...)
	c.mu.Unlock()
	return evlog.EncodeOutcome(&evlog.Outcome{})
}

func TestCollectorProposesOldUnreferencedBlobs(t *testing.T) {
	st := &collectStore{applied: 5000, hashes: [][]byte{make([]byte, 32)}}
	cl := &recordingCluster{}
	clock := time.Unix(1_800_000_000, 0)
	w, err := New(Config{Store: st, Cluster: cl, Deliverer: &Transport{}, CollectDistance: 1000,
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	w.collect(context.Background())
	if st.before != 4000 || len(cl.events) != 1 {
		t.Fatalf("touched before %d, %d events", st.before, len(cl.events))
	}
	bc := cl.events[0].GetBlobsCollected()
	// The clock goes to the read and to apply, which keep pinned bodies.
	if bc == nil || len(bc.GetHashes()) != 1 || bc.GetTouchedBefore() != 4000 ||
		st.now != clock.Unix() || bc.GetNowUnix() != clock.Unix() {
		t.Fatalf("proposed %v", cl.events[0])
	}
	// Too early in the log: nothing is old enough.
	st.applied, cl.events = 900, nil
	w.collect(context.Background())
	if len(cl.events) != 0 {
		t.Fatalf("collected at index 900: %v", cl.events)
	}
}

// TestCollectorExpiresStagedUploads: staged uploads whose pin passed (the
// session that staged them died) are removed by the collector's proposal,
// stamped with its clock, even when no body is old enough to collect.
func TestCollectorExpiresStagedUploads(t *testing.T) {
	st := &collectStore{applied: 900, expired: 2}
	cl := &recordingCluster{}
	clock := time.Unix(1_800_000_000, 0)
	w, err := New(Config{Store: st, Cluster: cl, Deliverer: &Transport{}, CollectDistance: 1000,
		Now: func() time.Time { return clock }})
	if err != nil {
		t.Fatal(err)
	}
	w.collect(context.Background())
	if len(cl.events) != 1 || st.upBefore != clock.Unix() {
		t.Fatalf("%d events, uploads read before %d", len(cl.events), st.upBefore)
	}
	bc := cl.events[0].GetBlobsCollected()
	if bc == nil || bc.GetExpiredUploadsBeforeUnix() != clock.Unix() || len(bc.GetHashes()) != 0 {
		t.Fatalf("proposed %v", cl.events[0])
	}
	// Nothing expired, nothing old: no proposal.
	st.expired, cl.events = 0, nil
	w.collect(context.Background())
	if len(cl.events) != 0 {
		t.Fatalf("proposed %v", cl.events)
	}
}
