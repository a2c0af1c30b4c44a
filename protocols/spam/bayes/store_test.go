package bayes

import (
	"context"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
)

func encodeEvents(t testing.TB, evs ...*evlog.Event) []byte {
	t.Helper()
	b, err := evlog.EncodeBatch(&evlog.Batch{Events: evs})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestStoreModel trains through the store's apply and classifies with
// its counts: the path a node takes.
func TestStoreModel(t *testing.T) {
	n := newNode(t)
	ctx := context.Background()
	now := time.Unix(1_800_000_000, 0)
	spam := "Subject: cheap pills\r\n\r\nbuy cheap pills online pharmacy discount"
	ham := "Subject: meeting notes\r\n\r\nthe project meeting notes are attached"
	for range DefaultMinTrained {
		for _, m := range []struct {
			text string
			spam bool
		}{{spam, true}, {ham, false}} {
			out, err := n.Propose(ctx, encodeEvents(t, TrainEvent("", m.spam, false, tokensOf(t, m.text), now)))
			if err != nil {
				t.Fatal(err)
			}
			if o, err := evlog.DecodeOutcome(out); err != nil || o.GetError() != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED {
				t.Fatalf("training refused: %v %v", o, err)
			}
		}
	}
	c := &Classifier{Model: StoreModel{Store: n.store}}
	for text, want := range map[string]bool{spam: true, ham: false} {
		v, err := c.Classify("", tokensOf(t, text))
		if err != nil {
			t.Fatal(err)
		}
		if v.Spam != want {
			t.Errorf("%q: %+v", text, v)
		}
	}
	// A user without a model is classified by the global one.
	if v, err := c.Classify("nobody@example.org", tokensOf(t, spam)); err != nil || !v.Spam {
		t.Errorf("user without a model: %+v, %v", v, err)
	}
}
