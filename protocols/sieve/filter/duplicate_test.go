package filter

import (
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/sieve"
)

// RFC 7352: the duplicate test reads the records, and the ids it tracks
// are recorded with the delivery, for at most MaxDuplicatePeriod.
func TestDuplicate(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	h.interp.def("dup", func(_ sieve.Message, env sieve.Env) (*sieve.Result, error) {
		id := []byte("id-1")
		if env.Duplicate(id) {
			return &sieve.Result{Discarded: true}, nil
		}
		return &sieve.Result{Keep: true, Duplicates: [][]byte{id}, DuplicateExpires: 30 * 24 * time.Hour}, nil
	})
	h.store.put(alice, "d", "dup")
	res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	ds := duplicates(res)
	if len(ds) != 1 || ds[0].GetUser() != alice || string(ds[0].GetIds()[0]) != "id-1" {
		t.Fatalf("records %v", ds)
	}
	if ds[0].GetSeenUnix() != h.now.Unix() || ds[0].GetExpiresUnix() != h.now.Add(MaxDuplicatePeriod).Unix() {
		t.Fatalf("times %v", ds[0])
	}
	// Recorded: the next one is a duplicate.
	h.store.dups[alice+"|id-1"] = true
	res, err = h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Recipients[alice].Discard || len(duplicates(res)) != 0 {
		t.Fatalf("second: %+v, %v", res.Recipients[alice], res.Events)
	}
}
