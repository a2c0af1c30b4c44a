package pop3

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// Benchmarks over loopback with real TLS against the real store. They
// print numbers and assert no times (docs/DESIGN.md). Dovecot for comparison
// (the figures): RETR of 1,000 4 KiB messages ~0.14 s warm, UIDL
// of 10,000 messages ~1 ms.

var benchUsers struct {
	once          sync.Once
	retr, uidl10k string
}

// benchBody is a 4 KiB message with some lines that need dot-stuffing.
func benchBody(i int) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "From: <sender@remote.test>\r\nTo: <bench@example.test>\r\nSubject: bench %d\r\n\r\n", i)
	for b.Len() < 4096-80 {
		b.WriteString("The quick brown fox jumps over the lazy dog, again and again.\r\n")
		b.WriteString(".a line that starts with a dot\r\n")
	}
	for b.Len() < 4094 {
		b.WriteByte('x')
	}
	b.WriteString("\r\n")
	return []byte(b.String())
}

func benchSetup(b *testing.B) (*testCluster, string, string) {
	c := sharedCluster(b)
	benchUsers.once.Do(func() {
		benchUsers.retr = c.NewUser(b, "bench-retr", password)
		bodies := make([][]byte, 1000)
		for i := range bodies {
			bodies[i] = benchBody(i)
		}
		c.Deliver(b, benchUsers.retr, bodies...)
		benchUsers.uidl10k = c.NewUser(b, "bench-uidl", password)
		small := make([][]byte, 10_000)
		for i := range small {
			small[i] = []byte(fmt.Sprintf("Subject: %d\r\n\r\nx\r\n", i))
		}
		c.Deliver(b, benchUsers.uidl10k, small...)
	})
	return c, benchUsers.retr, benchUsers.uidl10k
}

// BenchmarkRetr1000 is RETR of 1,000 4 KiB messages in one session
// (logged in beforehand), one command at a time and pipelined 50 at a
// time (as fetchmail does).
func BenchmarkRetr1000(b *testing.B) {
	for _, depth := range []int{1, 50} {
		b.Run(fmt.Sprintf("pipeline=%d", depth), func(b *testing.B) { benchRetr(b, depth) })
	}
}

func benchRetr(b *testing.B, depth int) {
	c, user, _ := benchSetup(b)
	_, addr := c.serve(b, c.Nodes[0], nil)
	cl := login(b, addr, user)
	var cmds bytes.Buffer
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		var octets int
		for first := 1; first <= 1000; first += depth {
			cmds.Reset()
			for n := first; n < first+depth; n++ {
				fmt.Fprintf(&cmds, "RETR %d\r\n", n)
			}
			if _, err := cl.conn.Write(cmds.Bytes()); err != nil {
				b.Fatal(err)
			}
			for range depth {
				octets += readMulti(b, cl)
			}
		}
		b.ReportMetric(float64(time.Since(start).Microseconds())/1000, "ms/1000-RETR")
		b.SetBytes(int64(octets))
	}
	b.StopTimer()
	cl.must("QUIT") // proposes the \Seen of 1,000 messages in one batch
}

// BenchmarkUIDL10k is UIDL of a 10,000-message maildrop.
func BenchmarkUIDL10k(b *testing.B) {
	c, _, user := benchSetup(b)
	_, addr := c.serve(b, c.Nodes[0], nil)
	cl := login(b, addr, user)
	b.ResetTimer()
	for range b.N {
		cl.send("UIDL")
		readMulti(b, cl)
	}
}

// BenchmarkLogin10k is login (the maildrop scan) with 10,000 messages.
func BenchmarkLogin10k(b *testing.B) {
	c, _, user := benchSetup(b)
	_, addr := c.serve(b, c.Nodes[0], nil)
	cl := dial(b, addr)
	cl.stls()
	b.ResetTimer()
	for range b.N {
		cl.must("USER " + user)
		cl.must("PASS " + password)
		b.StopTimer()
		cl.send("QUIT")
		cl.line()
		cl = dial(b, addr)
		cl.stls()
		b.StartTimer()
	}
}

// readMulti reads a status line and a multi-line body, returning octets.
func readMulti(b *testing.B, cl *client) int {
	l, err := cl.r.ReadSlice('\n')
	if err != nil || !bytes.HasPrefix(l, []byte("+OK")) {
		b.Fatalf("status %q %v", l, err)
	}
	n := 0
	for {
		l, err := cl.r.ReadSlice('\n')
		if err != nil {
			b.Fatal(err)
		}
		if len(l) == 3 && l[0] == '.' {
			return n
		}
		n += len(l)
	}
}
