package imapload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// Record is one measurement as bench/imap-pop3.sh keeps it: one JSON object
// a line. Kind says which payload is set.
type Record struct {
	Kind   string    `json:"kind"`  // "static", "pop3", "mixed", "idle", "fill"
	Label  string    `json:"label"` // the server: "surat", "dovecot"
	TLS    bool      `json:"tls"`   // STARTTLS (IMAP) / STLS (POP3) before login
	Note   string    `json:"note,omitempty"`
	Round  int       `json:"round"`
	Warm   bool      `json:"warmup,omitempty"` // a warm-up round, not in the medians
	Start  time.Time `json:"started"`
	Load1  float64   `json:"load1"`
	Addrs  []string  `json:"addrs"`
	Static *StaticResult
	POP3   *POP3Result
	Mixed  *MixedResult
	Idle   *IdleResult
	Fill   *FillResult `json:"Fill,omitempty"`
	// StepCPU is, per timed step (static and pop3: "select", "fetch_body",
	// ...; mixed: "run"), the CPU seconds (user+system) each named server
	// process tree used during it, and "client" for this process.
	StepCPU map[string]map[string]float64 `json:"step_cpu,omitempty"`
}

// IdleResult is the memory of one server process holding N idle
// connections.
type IdleResult struct {
	N           int     `json:"n"`
	PrevN       int     `json:"prev_n"` // connections already open before these (0: none)
	Opened      int     `json:"opened"`
	Failed      int     `json:"failed"`
	FirstError  string  `json:"first_error,omitempty"`
	Alive       int     `json:"alive"` // still open when measured
	Users       int     `json:"users"`
	OpenS       float64 `json:"open_s"`
	RSSBefore   int64   `json:"rss_before"`
	RSSAfter    int64   `json:"rss_after"`
	RSSPerConn  float64 `json:"rss_per_conn"`
	HeapBefore  float64 `json:"heap_inuse_before"`
	HeapAfter   float64 `json:"heap_inuse_after"`
	HeapPerConn float64 `json:"heap_per_conn"`
	StackBefore float64 `json:"stack_inuse_before"`
	StackAfter  float64 `json:"stack_inuse_after"`
	GorBefore   float64 `json:"goroutines_before"`
	GorAfter    float64 `json:"goroutines_after"`
	ClientRSS   int64   `json:"client_rss"`
	ServerCPUS  float64 `json:"server_cpu_s"` // while opening
	// HeapBefore/After are the live heap after the last GC, estimated
	// from the heap goal (see cmd/imapload liveHeap); HeapInuseAfter is
	// go_memstats_heap_inuse_bytes, garbage included.
	HeapInuseAfter float64 `json:"heap_inuse_after_raw"`
	// RSSSlope and HeapSlope are per connection between the previous
	// level and this one: the marginal cost, free of the baseline's noise.
	RSSSlope  float64 `json:"rss_slope"`
	HeapSlope float64 `json:"heap_slope"`
}

// ReadRecords reads Records, one JSON object a line.
func ReadRecords(r io.Reader) ([]Record, error) {
	var out []Record
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		var rec Record
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			return nil, fmt.Errorf("record %d: %w", len(out)+1, err)
		}
		out = append(out, rec)
	}
	return out, sc.Err()
}
