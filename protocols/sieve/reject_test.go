package sieve

import (
	"context"
	"errors"
	"testing"
)

// TestReject: RFC 5429: reject and ereject cancel the implicit keep.
func TestReject(t *testing.T) {
	r := run(t, `require "reject"; reject "Go away";`)
	if r.Keep || r.Reject == nil || r.Reject.Reason != "Go away" || r.Reject.Extended {
		t.Fatalf("reject: %+v", r)
	}
	r = run(t, `require "ereject"; ereject text:
Not here.
.
;`)
	if r.Keep || r.Reject == nil || r.Reject.Reason != "Not here.\n" || !r.Reject.Extended {
		t.Fatalf("ereject: %+v %+v", r, r.Reject)
	}
	if r.Discarded {
		t.Fatal("a rejected message is not reported as discarded")
	}
	// discard with reject is allowed.
	r = run(t, `require "reject"; discard; reject "no";`)
	if r.Reject == nil {
		t.Fatal("discard then reject")
	}
}

// TestRejectConflicts: RFC 5429 §2.1.3: reject does not combine with
// the actions that deliver or reply, nor with a second reject.
func TestRejectConflicts(t *testing.T) {
	for _, src := range []string{
		`require "reject"; keep; reject "x";`,
		`require "reject"; reject "x"; keep;`,
		`require ["reject", "fileinto"]; fileinto "a"; reject "x";`,
		`require ["reject", "fileinto"]; reject "x"; fileinto "a";`,
		`require "reject"; redirect "a@b.test"; reject "x";`,
		`require ["reject", "vacation"]; vacation "away"; reject "x";`,
		`require ["reject", "vacation"]; reject "x"; vacation "away";`,
		`require ["reject", "ereject"]; reject "x"; ereject "y";`,
	} {
		s, err := Compile([]byte(src), Options{})
		if err != nil {
			t.Fatalf("%s: %v", src, err)
		}
		_, err = s.Execute(context.Background(), splitMessage(testMessage), testEnv())
		if !errors.Is(err, ErrConflict) {
			t.Errorf("%s: %v, want ErrConflict", src, err)
		}
	}
}
