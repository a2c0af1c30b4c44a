package mailbox

import (
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func messageQuotaSet(a string, bytes, messages uint64) *evlog.Event {
	return ev(&evlog.QuotaSet{Address: a, Bytes: bytes, Messages: &messages})
}

// TestMessageQuota: a message limit (RFC 9208 §5.2 MESSAGE) refuses
// deliveries, APPEND and COPY past it, counts what a MOVE within the
// account does not change, and frees a place with each expunge.
func TestMessageQuota(t *testing.T) {
	f := newFixture(t) // userA: one message in INBOX
	if u := f.user(userA); !u.GetUsedMessagesKnown() || u.GetUsedMessages() != 1 {
		t.Fatalf("after one delivery: used_messages %d known %v", u.GetUsedMessages(), u.GetUsedMessagesKnown())
	}
	f.ok(messageQuotaSet(userA, 0, 2))
	f.ok(appended(f.work, f.hash, f.size)) // the second
	f.fails(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, appended(f.work, f.hash, f.size))
	f.fails(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, copied(f.inbox, uidRanges(1, 1), f.work))
	r := f.one(delivered(f.hash, f.size, rcpt(userA, ""), rcpt(userB, "")))
	if len(r.GetSkippedRecipients()) != 1 || r.GetSkippedRecipients()[0].GetAddress() != userA ||
		r.GetSkippedRecipients()[0].GetReason() != evlog.ErrorCode_ERROR_CODE_OVER_QUOTA {
		t.Errorf("delivery to a full account: skipped %v", r.GetSkippedRecipients())
	}
	f.ok(moved(f.inbox, uidRanges(1, 1), f.work)) // within the account: still two
	if u := f.user(userA); u.GetUsedMessages() != 2 || u.GetQuotaMessages() != 2 {
		t.Errorf("after the move: used %d of %d", u.GetUsedMessages(), u.GetQuotaMessages())
	}
	// A QuotaSet without a message limit leaves it as it is.
	f.ok(quotaSet(userA, 1<<30))
	if u := f.user(userA); u.GetQuotaMessages() != 2 || u.GetQuotaBytes() != 1<<30 {
		t.Errorf("a storage quota changed the message limit: %v", u)
	}
	f.ok(expunged(f.work, uidRanges(1, 1)))
	f.ok(appended(f.work, f.hash, f.size)) // the freed place
	f.fails(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, appended(f.inbox, f.hash, f.size))
	f.ok(messageQuotaSet(userA, 0, 0)) // no limit
	f.ok(appended(f.inbox, f.hash, f.size))
	if u := f.user(userA); u.GetUsedMessages() != 3 {
		t.Errorf("used_messages %d, want 3", u.GetUsedMessages())
	}
	checkInvariants(t, f.s)
}

// TestMessageQuotaCountsOlderAccounts: a user record from before the
// count has none; the first message limit set counts the account's
// messages, and the count is kept from then on.
func TestMessageQuotaCountsOlderAccounts(t *testing.T) {
	f := newFixture(t)
	f.ok(appended(f.work, f.hash, f.size))
	editUser(t, f.s, userA, func(u *evlog.UserRecord) { u.UsedMessages, u.UsedMessagesKnown = 0, false })
	// Without a count, expunging is no underflow and a limit of none
	// counts nothing.
	f.ok(expunged(f.work, uidRanges(1, 1)), messageQuotaSet(userA, 0, 0))
	if u := f.user(userA); u.GetUsedMessagesKnown() || u.GetUsedMessages() != 0 {
		t.Fatalf("uncounted record: %v", u)
	}
	f.ok(appended(f.work, f.hash, f.size), messageQuotaSet(userA, 0, 3))
	if u := f.user(userA); !u.GetUsedMessagesKnown() || u.GetUsedMessages() != 2 {
		t.Fatalf("counted at the first limit: used_messages %d known %v", u.GetUsedMessages(), u.GetUsedMessagesKnown())
	}
	f.ok(appended(f.inbox, f.hash, f.size))
	f.fails(evlog.ErrorCode_ERROR_CODE_OVER_QUOTA, appended(f.inbox, f.hash, f.size))
	checkInvariants(t, f.s)
}

func TestOverQuota(t *testing.T) {
	for _, tc := range []struct {
		name            string
		u               *evlog.UserRecord
		bytes, messages uint64
		want            bool
	}{
		{"no limits", &evlog.UserRecord{UsedBytes: 1 << 40, UsedMessages: 1 << 40, UsedMessagesKnown: true}, 1 << 40, 1, false},
		{"bytes fit exactly", &evlog.UserRecord{QuotaBytes: 100, UsedBytes: 60}, 40, 1, false},
		{"bytes one over", &evlog.UserRecord{QuotaBytes: 100, UsedBytes: 60}, 41, 1, true},
		{"bytes already over", &evlog.UserRecord{QuotaBytes: 100, UsedBytes: 160}, 0, 0, true},
		{"messages fit exactly", &evlog.UserRecord{QuotaMessages: 5, UsedMessages: 3, UsedMessagesKnown: true}, 1, 2, false},
		{"messages one over", &evlog.UserRecord{QuotaMessages: 5, UsedMessages: 3, UsedMessagesKnown: true}, 1, 3, true},
		{"messages already over", &evlog.UserRecord{QuotaMessages: 5, UsedMessages: 9, UsedMessagesKnown: true}, 0, 0, true},
		{"messages not counted", &evlog.UserRecord{QuotaMessages: 5, UsedMessages: 9}, 1, 1, false},
	} {
		if got := OverQuota(tc.u, tc.bytes, tc.messages); got != tc.want {
			t.Errorf("%s: OverQuota = %v", tc.name, got)
		}
	}
}
