package smtp

import (
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestMeasureLargeMessages reports, for 25 MiB messages through a real
// three-node cluster in this process (MX on a follower, so every chunk is
// forwarded to the leader), the time from DATA to the 250 for one message
// and the peak heap in use above the idle cluster's while one, then eight
// concurrent, are received. A measurement, not a check: it runs only with
// SURAT_MEASURE=1 (and without -race, for figures worth reporting).
func TestMeasureLargeMessages(t *testing.T) {
	if os.Getenv("SURAT_MEASURE") == "" {
		t.Skip("a measurement: set SURAT_MEASURE=1")
	}
	c := startCluster(t, 3)
	var follower *testNode
	for _, n := range c.Nodes {
		if !n.Node.IsLeader() {
			follower = n
			break
		}
	}
	_, addr := c.serve(t, follower, MX, func(cfg *Config) { cfg.ProposeTimeout = time.Minute })
	body := largeMessage("large", 25<<20-(64<<10)) // under the 25 MiB limit with the trace fields

	// peak samples HeapInuse until stop is closed.
	peak := func(stop chan struct{}, out *uint64) *sync.WaitGroup {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			var ms runtime.MemStats
			for {
				runtime.ReadMemStats(&ms)
				if ms.HeapInuse > atomic.LoadUint64(out) {
					atomic.StoreUint64(out, ms.HeapInuse)
				}
				select {
				case <-stop:
					return
				case <-time.After(2 * time.Millisecond):
				}
			}
		}()
		return &wg
	}
	send := func(cl *client) {
		cl.must(250, "MAIL FROM:<%s>", sender)
		cl.must(250, "RCPT TO:<%s>", bob)
		if code, msg := cl.data(body); code != 250 {
			t.Errorf("end of data: %d %s", code, msg)
		}
	}
	baseline := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse
	}

	cl := dial(t, addr)
	cl.hello()
	send(cl) // warm up
	for i := range 3 {
		base := baseline()
		var top uint64
		stop := make(chan struct{})
		wg := peak(stop, &top)
		start := time.Now()
		send(cl)
		took := time.Since(start)
		close(stop)
		wg.Wait()
		t.Logf("one 25 MiB message, run %d: %v to the 250, peak heap %.1f MiB above idle", i+1, took.Round(time.Millisecond), float64(top-base)/(1<<20))
	}

	clients := make([]*client, 8)
	for i := range clients {
		clients[i] = dial(t, addr)
		clients[i].hello()
	}
	base := baseline()
	var top uint64
	stop := make(chan struct{})
	wg := peak(stop, &top)
	start := time.Now()
	var senders sync.WaitGroup
	for _, cl := range clients {
		senders.Add(1)
		go func() {
			defer senders.Done()
			send(cl)
		}()
	}
	senders.Wait()
	took := time.Since(start)
	close(stop)
	wg.Wait()
	t.Logf("eight concurrent 25 MiB messages: %v to the last 250, peak heap %.1f MiB above idle (%.1f MiB a message)",
		took.Round(time.Millisecond), float64(top-base)/(1<<20), float64(top-base)/(8<<20))
}
