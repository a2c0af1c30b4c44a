package clamd

import (
	"context"
	"strings"
	"testing"
)

// BenchmarkScan4KiB measures one 4 KiB message streamed to Debian's clamd
// (with the test's one-signature database: the protocol's and clamd's
// fixed cost per message, not a full signature set's) and to the
// in-process fake (the client's own cost).
func BenchmarkScan4KiB(b *testing.B) {
	msg := testMessage(strings.Repeat("a line of text, 32 bytes long..\r\n", 124)) // ~4 KiB
	for _, daemon := range []string{"clamd", "fake"} {
		b.Run(daemon, func(b *testing.B) {
			var c *Client
			if daemon == "clamd" {
				c = startClamd(b).client
			} else {
				c = startFake(b).client()
			}
			b.SetBytes(int64(len(msg)))
			ctx := context.Background()
			for b.Loop() {
				if res, err := c.Scan(ctx, strings.NewReader(msg)); err != nil || res.Infected {
					b.Fatalf("%+v, %v", res, err)
				}
			}
		})
	}
}
