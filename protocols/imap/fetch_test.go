package imap

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// TestFetchWholeBodies: BODY[] and BODY[]<partial> (RFC 9051 §6.4.5) of
// small bodies, read ahead a batch at a time, and of a body too large for
// that, streamed chunk by chunk, agree byte for byte with what was stored,
// over more messages than one read-ahead batch.
func TestFetchWholeBodies(t *testing.T) {
	c, addr := sharedServer(t)
	user := c.NewUser(t, "bodies", password)
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

// TestFetchPartialOverflow: a <offset.size> whose sum overflows int64 (go-imap
// adds them unchecked and panicked, dropping the connection) is answered
// with what exists, for body parts, header sections and BINARY, and the
// session goes on.
func TestFetchPartialOverflow(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "partial", password)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, implicit, user)
	defer rc.conn.Close()
	appendRaw(rc, "INBOX", "Subject: overflow\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\npart one\r\n--b--\r\n")
	if r := last(rc.cmd("s", "SELECT INBOX")); !strings.HasPrefix(r, "s OK") {
		t.Fatalf("SELECT: %q", r)
	}
	// untilTag reads past literals (their blank lines) to the tagged reply;
	// "" when the connection dropped.
	untilTag := func(tag, line string) []string {
		fmt.Fprintf(rc.conn, "%s %s\r\n", tag, line)
		_ = rc.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
		var out []string
		for {
			l, err := rc.r.ReadString('\n')
			if err != nil {
				return append(out, "")
			}
			out = append(out, strings.TrimRight(l, "\r\n"))
			if strings.HasPrefix(l, tag+" ") {
				return out
			}
		}
	}
	for i, item := range []string{
		"BODY.PEEK[HEADER]<1.9223372036854775807>",
		"BODY.PEEK[1]<2.9223372036854775807>",
		"BODY.PEEK[TEXT]<9223372036854775807.9223372036854775807>",
		"BINARY.PEEK[1]<1.9223372036854775807>",
		"BODY.PEEK[]<1.9223372036854775807>",
	} {
		tag := fmt.Sprintf("f%d", i)
		lines := untilTag(tag, "FETCH 1 ("+item+")")
		if r := last(lines); !strings.HasPrefix(r, tag+" OK") {
			t.Fatalf("%s: %q", item, lines)
		}
	}
	lines := untilTag("p", "FETCH 1 (BODY.PEEK[1]<2.9223372036854775807>)")
	if !strings.Contains(strings.Join(lines, "\n"), "rt one") {
		t.Errorf("BODY[1]<2.huge>: %q", lines)
	}
	if r := last(untilTag("n", "NOOP")); !strings.HasPrefix(r, "n OK") {
		t.Fatalf("NOOP after: %q", r)
	}
}
