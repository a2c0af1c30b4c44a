package mailauth

import (
	"context"

	"github.com/surat-mail/surat/protocols/dns"
	"strings"
	"testing"
)

// BenchmarkVerdict is the whole evaluation of a 4 KiB message with one
// Ed25519 signature, SPF pass and DMARC p=reject, every look-up answered by
// the in-process DNS server over UDP (no cache: each message asks again).
func BenchmarkVerdict(b *testing.B) { benchVerdict(b, false) }

// BenchmarkVerdictCached is the same with the resolver's cache, as a node
// runs: after the first message every answer comes from the cache.
func BenchmarkVerdictCached(b *testing.B) { benchVerdict(b, true) }

func benchVerdict(b *testing.B, cached bool) {
	srv, r := newDNS(b)
	if cached {
		c, err := dns.New(srv.Addr())
		if err != nil {
			b.Fatal(err)
		}
		r = c
	}
	srv.Add("bench.test", "TXT", "v=spf1 ip4:192.0.2.1 -all")
	srv.Add("_dmarc.bench.test", "TXT", "v=DMARC1; p=reject")
	s := newEd25519(b, srv, "bench.test", "k")
	c := newChecker(b, r, nil)
	body := strings.Repeat("A line of a message body that is of a usual length.\r\n", 4096/54)
	msg := s.sign(b, strings.Replace(message("news@bench.test"), "Hello.\r\n", body, 1))
	if len(msg) < 4096 {
		b.Fatalf("message of %d bytes", len(msg))
	}
	e := env("192.0.2.1", "", "news@bench.test")
	ctx := context.Background()
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		m := c.Start(ctx, e)
		for i := 0; i < len(msg); i += 1024 {
			m.Write([]byte(msg[i:min(i+1024, len(msg))]))
		}
		v, err := m.Finish(ctx)
		if err != nil || v.Action != Accept || v.DKIM[0].Result != "pass" || v.DMARC[0].Result != "pass" {
			b.Fatalf("%v %+v", err, v)
		}
	}
}
