package imap

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// TestFetchWholeBodies: BODY[] and BODY[]<partial> (RFC 9051 §6.4.5) of
// small bodies, read ahead a batch at a time, and of a body too large for
// that, streamed chunk by chunk, agree byte for byte with what was stored,
// over more messages than one read-ahead batch.
func TestFetchWholeBodies(t *testing.T) {
	c, addr := sharedServer(t)
	user := c.newUser(t, "bodies")
	cl, _ := dial(t, addr, user)
	defer cl.Close()

	large := msg("large", string(bytes.Repeat([]byte("0123456789abcdef\r\n"), (maxBatchedBody/18)+1000)))
	var stored [][]byte
	for i := range bodyBatch + 5 {
		body := msg(fmt.Sprintf("small %d", i), fmt.Sprintf("body of message %d\r\n", i))
		if i == 7 {
			body = large
		}
		appendMsg(t, cl, "INBOX", body)
		stored = append(stored, body)
	}
	mustSelect(t, cl, "INBOX")

	partials := []struct {
		name string
		p    *imap.SectionPartial
	}{
		{"whole", nil},
		{"prefix", &imap.SectionPartial{Offset: 0, Size: 10}},
		{"middle", &imap.SectionPartial{Offset: 5, Size: 7}},
		{"past the end", &imap.SectionPartial{Offset: 20, Size: 1 << 30}},
		{"offset beyond", &imap.SectionPartial{Offset: 1 << 30, Size: 10}},
	}
	for _, tc := range partials {
		t.Run(tc.name, func(t *testing.T) {
			msgs := fetchAll(t, cl, imap.SeqSet{imap.SeqRange{Start: 1, Stop: 0}}, &imap.FetchOptions{UID: true,
				BodySection: []*imap.FetchItemBodySection{{Peek: true, Partial: tc.p}}})
			if len(msgs) != len(stored) {
				t.Fatalf("%d messages, want %d", len(msgs), len(stored))
			}
			for i, m := range msgs {
				want := stored[m.UID-1]
				if tc.p != nil {
					off := min(tc.p.Offset, int64(len(want)))
					want = want[off : off+min(tc.p.Size, int64(len(want))-off)]
				}
				if len(m.BodySection) != 1 || !bytes.Equal(m.BodySection[0].Bytes, want) {
					got := 0
					if len(m.BodySection) == 1 {
						got = len(m.BodySection[0].Bytes)
					}
					t.Errorf("message %d (uid %d): %d bytes, want %d", i+1, m.UID, got, len(want))
				}
			}
		})
	}
}
