package rspamd

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkCheck4KiB measures one 4 KiB message streamed to Debian's
// rspamd (with only the test's rules: the protocol's and rspamd's fixed
// cost per message, not a production rule set's) and to an in-process
// fake (the client's own cost).
func BenchmarkCheck4KiB(b *testing.B) {
	msg := testMessage("lunch on thursday", strings.Repeat("a line of text, 32 bytes long..\r\n", 124))
	req := Request{From: "a@example.com", Rcpt: []string{"b@example.org"}, IP: "192.0.2.1", Helo: "mx.example.com"}
	for _, daemon := range []string{"rspamd", "fake"} {
		b.Run(daemon, func(b *testing.B) {
			var c *Client
			var err error
			if daemon == "rspamd" {
				c, err = Parse(startRspamd(b).url)
			} else {
				c = startFake(b).client(b)
			}
			if err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(len(msg)))
			ctx := context.Background()
			for b.Loop() {
				if r, err := c.Check(ctx, req, strings.NewReader(msg)); err != nil || r.Action != ActionNoAction {
					b.Fatalf("%+v, %v", r, err)
				}
			}
		})
	}
}
