package mailbox

import (
	"fmt"

	evlog "github.com/surat-mail/surat/log"
)

// OverQuota reports whether u cannot take bytes more octets in messages
// more messages: its storage limit (quota_bytes) or its message limit
// (quota_messages, RFC 9208 §5.2) would be passed. 0 is no limit. Apply
// decides with it when a message is stored; front ends ask it first
// (SMTP at RCPT, IMAP at APPEND and COPY) so that a full mailbox is
// refused before the body is sent.
func OverQuota(u *evlog.UserRecord, bytes, messages uint64) bool {
	if q, used := u.GetQuotaBytes(), u.GetUsedBytes(); q > 0 && (used > q || bytes > q-used) {
		return true
	}
	q, used := u.GetQuotaMessages(), u.GetUsedMessages()
	return q > 0 && u.GetUsedMessagesKnown() && (used > q || messages > q-used)
}

// quotaUsage describes u's usage for a refusal's message.
func quotaUsage(u *evlog.UserRecord) string {
	s := fmt.Sprintf("user %s: %d of %d bytes", u.GetAddress(), u.GetUsedBytes(), u.GetQuotaBytes())
	if q := u.GetQuotaMessages(); q > 0 {
		s += fmt.Sprintf(", %d of %d messages", u.GetUsedMessages(), q)
	}
	return s + " used"
}

// chargeUsage adds one message of size octets to u's usage.
func chargeUsage(u *evlog.UserRecord, size uint64) {
	u.UsedBytes += size
	if u.GetUsedMessagesKnown() {
		u.UsedMessages++
	}
}

// subtractUsage takes one message of size octets off u's usage.
func subtractUsage(u *evlog.UserRecord, size uint64) error {
	if u.GetUsedBytes() < size {
		return fmt.Errorf("user %s uses %d bytes, cannot release %d", u.GetAddress(), u.GetUsedBytes(), size)
	}
	if u.GetUsedMessagesKnown() && u.GetUsedMessages() == 0 {
		return fmt.Errorf("user %s has no message counted, cannot release one", u.GetAddress())
	}
	u.UsedBytes -= size
	if u.GetUsedMessagesKnown() {
		u.UsedMessages--
	}
	return nil
}

func (t *txn) quotaSet(e *evlog.QuotaSet) (*evlog.EventResult, error) {
	u, err := t.loadUser(e.GetAddress())
	if err != nil {
		return nil, err
	}
	u.QuotaBytes = e.GetBytes()
	if e.Messages != nil {
		u.QuotaMessages = e.GetMessages()
		if u.GetQuotaMessages() > 0 && !u.GetUsedMessagesKnown() {
			if u.UsedMessages, err = t.countMessages(u.GetAddress()); err != nil {
				return nil, err
			}
			u.UsedMessagesKnown = true
		}
	}
	t.changes.add(Change{Index: t.index, Address: u.GetAddress(), Kind: UserChanged})
	return nil, t.saveUser(u)
}

// countMessages is the number of messages in address's mailboxes, from
// their records' counts.
func (t *txn) countMessages(address string) (uint64, error) {
	names, err := t.scan(mailboxByNamePrefix(address), prefixEnd(mailboxByNamePrefix(address)))
	if err != nil {
		return 0, err
	}
	var n uint64
	for _, name := range names {
		mb, err := t.loadMailbox(decodeMailboxID(name.value))
		if err != nil {
			return 0, err
		}
		n += uint64(mb.GetMessages())
	}
	return n, nil
}
