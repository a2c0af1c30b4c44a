package dns

import (
	"context"
	"testing"

	"github.com/surat-mail/surat/protocols/dns/dnstest"
)

// BenchmarkLookupTXT measures one SPF-sized TXT look-up answered from the
// cache and from a server on loopback.
func BenchmarkLookupTXT(b *testing.B) {
	srv := dnstest.Start(b)
	srv.Add("example.test", "TXT", "v=spf1 ip4:192.0.2.0/24 include:_spf.example.test -all")
	ctx := context.Background()
	for _, bc := range []struct {
		name string
		opts Options
	}{{"cached", Options{}}, {"uncached", Options{CacheEntries: -1}}} {
		b.Run(bc.name, func(b *testing.B) {
			c, err := NewWithOptions(srv.Addr(), bc.opts)
			if err != nil {
				b.Fatal(err)
			}
			for b.Loop() {
				if _, err := c.LookupTXT(ctx, "example.test"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
