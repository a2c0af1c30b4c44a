package spam

import (
	"bytes"
	"context"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

func TestFiling(t *testing.T) {
	for _, c := range []struct {
		from, to string
		want     Judgement
	}{
		{"", `\Junk`, Spam},
		{`\Trash`, `\Junk`, Spam},
		{`\Junk`, "", Ham},
		{`\Junk`, `\Archive`, Ham},
		{`\Junk`, `\Trash`, Neutral}, // deleting junk is no ham
		{`\Junk`, `\Junk`, Neutral},
		{"", `\Archive`, Neutral},
		{`\Sent`, "", Neutral},
	} {
		if got := Filing(c.from, c.to); got != c.want {
			t.Errorf("%q -> %q: %v, want %v", c.from, c.to, got, c.want)
		}
	}
}

func TestEventAndBatches(t *testing.T) {
	now := time.Unix(1700000000, 0)
	e, err := Event("u@x.test", Ham, bytes.NewReader([]byte("Subject: lunch tomorrow\r\n\r\nmeeting notes\r\n")), now)
	if err != nil {
		t.Fatal(err)
	}
	st := e.GetSpamTrained()
	if st.GetUser() != "u@x.test" || st.GetSpam() || !st.GetRetrain() || len(st.GetTokens()) == 0 || st.GetTrainedUnix() != now.Unix() {
		t.Errorf("ham event: %v", st)
	}
	g, _ := Event("", Ham, bytes.NewReader([]byte("x y z")), now)
	if g.GetSpamTrained().GetRetrain() {
		t.Error("the global model's ham is a retrain")
	}
	if _, err := Event("u", Neutral, bytes.NewReader(nil), now); err == nil {
		t.Error("a neutral judgement trained")
	}

	ev := func(n int) *evlog.Event {
		return &evlog.Event{Kind: &evlog.Event_SpamTrained{SpamTrained: &evlog.SpamTrained{Tokens: make([]uint64, n)}}}
	}
	events := []*evlog.Event{ev(MaxBatchTokens / 2), ev(MaxBatchTokens / 2), ev(1), ev(MaxBatchTokens * 2), ev(3)}
	var sizes []int
	for _, b := range Batches(events) {
		sizes = append(sizes, len(b))
	}
	if len(sizes) != 4 || sizes[0] != 2 || sizes[1] != 1 || sizes[2] != 1 || sizes[3] != 1 {
		t.Errorf("batches of %v", sizes)
	}
}

// memStore holds messages of one mailbox.
type memStore struct {
	box    uint64
	bodies map[uint32]string
}

func (m *memStore) Message(box uint64, uid uint32) (*evlog.MessageRecord, error) {
	if _, ok := m.bodies[uid]; !ok || box != m.box {
		return nil, errors.New("not found")
	}
	return &evlog.MessageRecord{Blob: []byte{byte(uid)}}, nil
}

func (m *memStore) BlobReader(hash []byte) (io.ReadCloser, error) {
	b, ok := m.bodies[uint32(hash[0])]
	if !ok {
		return nil, errors.New("no blob")
	}
	return io.NopCloser(bytes.NewReader([]byte(b))), nil
}

// recorder is a Proposer that keeps what it is given.
type recorder struct {
	mu      sync.Mutex
	batches []*evlog.Batch
	err     error
}

func (r *recorder) Propose(_ context.Context, p []byte) ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return nil, r.err
	}
	b, err := evlog.DecodeBatch(p)
	if err != nil {
		return nil, err
	}
	r.batches = append(r.batches, b)
	res := make([]*evlog.EventResult, len(b.GetEvents()))
	for i := range res {
		res[i] = &evlog.EventResult{}
	}
	return evlog.EncodeOutcome(&evlog.Outcome{Results: res})
}

func (r *recorder) events() (out []*evlog.SpamTrained) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, b := range r.batches {
		for _, e := range b.GetEvents() {
			out = append(out, e.GetSpamTrained())
		}
	}
	return out
}

func TestLearner(t *testing.T) {
	store := &memStore{box: 7, bodies: map[uint32]string{1: "Subject: cheap pills\r\n\r\nbuy now\r\n", 2: "Subject: b\r\n\r\nwin\r\n", 3: "Subject: c\r\n\r\nprize\r\n"}}
	rec := &recorder{}
	l := &Learner{Store: store, Proposer: rec, Max: 2, Now: func() time.Time { return time.Unix(5, 0) }}
	junk := &evlog.MailboxRecord{Id: 7, Name: "Junk", SpecialUse: `\Junk`}
	inbox := &evlog.MailboxRecord{Id: 7, Name: "INBOX"}
	ctx := context.Background()

	// Into Junk: spam, at most Max messages; a vanished message is skipped.
	l.Filed(ctx, "u@x.test", "", junk, []uint32{1, 9, 2, 3})
	got := rec.events()
	if len(got) != 1 || !got[0].GetSpam() || got[0].GetRetrain() || got[0].GetUser() != "u@x.test" || got[0].GetTrainedUnix() != 5 {
		t.Fatalf("into Junk: %v", got)
	}
	// Out of Junk: ham, retrained.
	l.Filed(ctx, "u@x.test", `\Junk`, inbox, []uint32{2})
	if got = rec.events(); len(got) != 2 || got[1].GetSpam() || !got[1].GetRetrain() {
		t.Fatalf("out of Junk: %v", got)
	}
	// Between ordinary mailboxes and into Trash: nothing.
	l.Filed(ctx, "u@x.test", "", inbox, []uint32{1})
	l.Filed(ctx, "u@x.test", `\Junk`, &evlog.MailboxRecord{Id: 7, SpecialUse: `\Trash`}, []uint32{1})
	l.Appended(ctx, "u@x.test", "", []byte("Subject: x\r\n\r\ny\r\n"))
	if got = rec.events(); len(got) != 2 {
		t.Fatalf("neutral filings trained: %v", got[2:])
	}
	// APPEND into Junk: spam.
	l.Appended(ctx, "u@x.test", `\Junk`, []byte("Subject: x\r\n\r\ny\r\n"))
	if got = rec.events(); len(got) != 3 || !got[2].GetSpam() {
		t.Fatalf("append into Junk: %v", got)
	}
	// A failing cluster is logged, not fatal.
	rec.err = errors.New("no quorum")
	l.Filed(ctx, "u@x.test", "", junk, []uint32{1})
}

func TestTrainingEventsErrors(t *testing.T) {
	store := &memStore{box: 1, bodies: map[uint32]string{1: "a"}}
	delete(store.bodies, 1)
	store.bodies[2] = "b"
	broken := &brokenBlobs{store}
	if _, _, err := TrainingEvents(context.Background(), broken, "u", Spam, 1, []uint32{2}, 10, time.Now()); err == nil {
		t.Error("an unreadable body gave no error")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, err := TrainingEvents(ctx, store, "u", Spam, 1, []uint32{2}, 10, time.Now()); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}

type brokenBlobs struct{ *memStore }

func (brokenBlobs) BlobReader([]byte) (io.ReadCloser, error) { return nil, errors.New("disk error") }
