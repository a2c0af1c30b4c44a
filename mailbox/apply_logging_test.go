package mailbox

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
)

// Apply logs where messages arrive and leave on every node, with the
// entry's raft_index and the mailbox's name, so that one message can be
// followed across nodes by either (docs/DESIGN.md, "Log keys").
func TestApplyLogsPlacedMessages(t *testing.T) {
	h := newHarness(t)
	var buf bytes.Buffer
	h.s.logger = slog.New(slog.NewJSONHandler(&buf, nil))
	const user = "log@example.test"
	h.ok(domainAdded("example.test"))
	h.ok(userCreated(user, 1))
	h.ok(mailboxCreated(user, "Saved", 1))
	hash := h.store("Subject: hi\r\n\r\nhello\r\n")
	h.ok(delivered(hash, 22, rcpt(user, "")))
	deliveredAt := h.index
	inbox, archive := h.mailbox(user, "INBOX"), h.mailbox(user, "Saved")
	h.ok(moved(inbox.GetId(), uidRanges(1, 1), archive.GetId()))
	movedAt := h.index

	type line struct {
		Msg       string `json:"msg"`
		RaftIndex uint64 `json:"raft_index"`
		User      string `json:"user"`
		Mailbox   string `json:"mailbox"`
		MailboxID uint64 `json:"mailbox_id"`
		UID       uint32 `json:"uid"`
	}
	var got []line
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var x line
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if strings.HasPrefix(x.Msg, "messages ") {
			got = append(got, x)
		}
	}
	want := []line{
		{"messages added", deliveredAt, user, "INBOX", inbox.GetId(), 1},
		{"messages expunged", movedAt, user, "INBOX", inbox.GetId(), 1},
		{"messages added", movedAt, user, "Saved", archive.GetId(), 1},
	}
	if len(got) != len(want) {
		t.Fatalf("logged %+v\nwant %+v\nlog:\n%s", got, want, buf.String())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("line %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
