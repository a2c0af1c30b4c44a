package propose

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
)

// gateProposer blocks every Propose until `want` are waiting at once: a
// caller that waits for each before the next never gets through.
type gateProposer struct {
	want    int
	mu      sync.Mutex
	waiting int
	open    chan struct{}
	answer  []byte
}

func (g *gateProposer) Propose(ctx context.Context, _ []byte) ([]byte, error) {
	g.mu.Lock()
	g.waiting++
	if g.waiting == g.want {
		close(g.open)
	}
	g.mu.Unlock()
	select {
	case <-g.open:
		return g.answer, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func TestSubmitAsyncHasSeveralInFlight(t *testing.T) {
	ok := outcome(t, &evlog.Outcome{Results: []*evlog.EventResult{{}}})
	g := &gateProposer{want: 4, open: make(chan struct{}), answer: ok}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var fs []*Future
	for range g.want {
		f, err := SubmitAsync(ctx, g, userCreated("a@x.test"))
		if err != nil {
			t.Fatal(err)
		}
		fs = append(fs, f)
	}
	for i, f := range fs {
		if _, err := f.Wait(ctx); err != nil {
			t.Fatalf("future %d: %v", i, err)
		}
		if f.Index() != 0 {
			t.Fatalf("a blocking proposer knows no index, got %d", f.Index())
		}
	}
}

// asyncProposer is an AsyncProposer whose futures answer with a fixed
// index and outcome.
type asyncProposer struct {
	fakeProposer
	index uint64
}

type fixedFuture struct {
	index  uint64
	answer []byte
	err    error
}

func (f fixedFuture) Wait(context.Context) ([]byte, error) { return f.answer, f.err }
func (f fixedFuture) Index() uint64                        { return f.index }

func (a *asyncProposer) ProposeAsync(_ context.Context, p []byte) (cluster.Future, error) {
	if _, err := evlog.DecodeBatch(p); err != nil {
		return nil, err
	}
	return fixedFuture{index: a.index, answer: a.answer, err: a.err}, nil
}

func TestSubmitAsyncUsesTheProposersFuture(t *testing.T) {
	exists := outcome(t, &evlog.Outcome{Error: evlog.ErrorCode_ERROR_CODE_USER_EXISTS})
	p := &asyncProposer{fakeProposer: fakeProposer{answer: exists}, index: 42}
	f, err := SubmitAsync(context.Background(), p, userCreated("a@x.test"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.Wait(context.Background())
	if !IsCode(err, evlog.ErrorCode_ERROR_CODE_USER_EXISTS) {
		t.Fatalf("Wait: %v, want the refusal", err)
	}
	if f.Index() != 42 {
		t.Fatalf("index %d, want 42 (a refusal is committed too)", f.Index())
	}
	p.err, p.answer = cluster.ErrNoQuorum, nil
	f, _ = SubmitAsync(context.Background(), p, userCreated("a@x.test"))
	if _, err := f.Wait(context.Background()); !errors.Is(err, cluster.ErrNoQuorum) {
		t.Fatalf("Wait: %v, want ErrNoQuorum", err)
	}
}
