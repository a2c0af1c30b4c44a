package propose

import (
	"context"
	"errors"
	"testing"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
)

type fakeProposer struct {
	got    *evlog.Batch
	answer []byte
	err    error
}

func (f *fakeProposer) Propose(_ context.Context, p []byte) ([]byte, error) {
	b, err := evlog.DecodeBatch(p)
	if err != nil {
		return nil, err
	}
	f.got = b
	return f.answer, f.err
}

func outcome(t *testing.T, o *evlog.Outcome) []byte {
	t.Helper()
	b, err := evlog.EncodeOutcome(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func userCreated(addr string) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: addr}}}
}

func TestSubmit(t *testing.T) {
	ok := outcome(t, &evlog.Outcome{Results: []*evlog.EventResult{{MailboxId: 7}}})
	exists := outcome(t, &evlog.Outcome{Error: evlog.ErrorCode_ERROR_CODE_USER_EXISTS, Message: "user a@x.test already exists"})
	bare := outcome(t, &evlog.Outcome{Error: evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER})

	tests := []struct {
		name      string
		p         *fakeProposer
		events    []*evlog.Event
		wantCode  evlog.ErrorCode
		wantIs    error
		wantMsg   string
		temporary bool
	}{
		{name: "applied", p: &fakeProposer{answer: ok}, events: []*evlog.Event{userCreated("a@x.test")}},
		{name: "rejected", p: &fakeProposer{answer: exists}, events: []*evlog.Event{userCreated("a@x.test")},
			wantCode: evlog.ErrorCode_ERROR_CODE_USER_EXISTS, wantMsg: "user a@x.test already exists"},
		{name: "rejected without message", p: &fakeProposer{answer: bare}, events: []*evlog.Event{userCreated("a@x.test")},
			wantCode: evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, wantMsg: "rejected: ERROR_CODE_NO_SUCH_USER"},
		{name: "no leader", p: &fakeProposer{err: cluster.ErrNoLeader}, events: []*evlog.Event{userCreated("a@x.test")},
			wantIs: cluster.ErrNoLeader, temporary: true},
		{name: "no quorum", p: &fakeProposer{err: cluster.ErrNoQuorum}, events: []*evlog.Event{userCreated("a@x.test")},
			wantIs: cluster.ErrNoQuorum, temporary: true},
		{name: "too large", p: &fakeProposer{err: cluster.ErrTooLarge}, events: []*evlog.Event{userCreated("a@x.test")},
			wantIs: cluster.ErrTooLarge},
		{name: "garbage outcome", p: &fakeProposer{answer: []byte{9, 9}}, events: []*evlog.Event{userCreated("a@x.test")},
			wantIs: ErrMalformedOutcome},
		{name: "no events", p: &fakeProposer{}, wantIs: ErrNoEvents},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := Submit(context.Background(), tc.p, tc.events...)
			switch {
			case tc.wantCode != 0:
				if !IsCode(err, tc.wantCode) {
					t.Fatalf("err = %v, want code %v", err, tc.wantCode)
				}
				if err.Error() != tc.wantMsg {
					t.Errorf("message %q, want %q", err.Error(), tc.wantMsg)
				}
				if out == nil || out.GetError() != tc.wantCode {
					t.Errorf("outcome %v", out)
				}
			case tc.wantIs != nil:
				if !errors.Is(err, tc.wantIs) {
					t.Fatalf("err = %v, want %v", err, tc.wantIs)
				}
				if Code(err) != 0 {
					t.Errorf("non-rejection has code %v", Code(err))
				}
				if tc.temporary != cluster.IsTemporary(errors.Unwrap(err)) && tc.wantIs != ErrMalformedOutcome && tc.wantIs != ErrNoEvents {
					t.Errorf("IsTemporary = %v", !tc.temporary)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				if len(out.Results) != 1 || out.Results[0].MailboxId != 7 {
					t.Errorf("outcome %v", out)
				}
				if len(tc.p.got.Events) != 1 || tc.p.got.Events[0].GetUserCreated().GetAddress() != "a@x.test" {
					t.Errorf("proposed %v", tc.p.got)
				}
			}
		})
	}
}

func TestIsCodeUnspecified(t *testing.T) {
	if IsCode(errors.New("x"), evlog.ErrorCode_ERROR_CODE_UNSPECIFIED) {
		t.Error("a plain error matched the success code")
	}
	if IsCode(nil, evlog.ErrorCode_ERROR_CODE_UNSPECIFIED) {
		t.Error("nil matched")
	}
}

// A proposal apply refused as stale (its idempotency key may have been
// forgotten) was not applied: a temporary cluster error, not a rejection.
func TestSubmitStaleIsTemporary(t *testing.T) {
	f := &fakeProposer{answer: outcome(t, &evlog.Outcome{Error: evlog.ErrorCode_ERROR_CODE_STALE_PROPOSAL, Message: "first sent too long ago"})}
	_, err := Submit(context.Background(), f, userCreated("a@example.test"))
	var rej *RejectedError
	if !errors.Is(err, cluster.ErrNoQuorum) || !cluster.IsTemporary(err) || errors.As(err, &rej) {
		t.Fatalf("err = %v, want a temporary cluster error", err)
	}
}
