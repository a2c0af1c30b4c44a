package smtpload

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// ServerMetrics is what a Surat cluster's /metrics said about a run: the
// difference between a scrape before and one after, summed over the nodes.
type ServerMetrics struct {
	// surat_propose_duration_seconds: proposal → committed and applied on
	// the proposing node. Quantiles are estimated from the histogram
	// buckets (linear within a bucket), so they are coarse.
	Proposals     int     `json:"proposals"`
	ProposeMeanMs float64 `json:"propose_mean_ms"`
	ProposeP50Ms  float64 `json:"propose_p50_ms"`
	ProposeP99Ms  float64 `json:"propose_p99_ms"`
	// surat_raft_entry_proposals: proposals per Raft entry (group commit).
	// Every node observes it when it applies an entry, so Entries is the
	// observations divided by the number of nodes.
	Entries           int     `json:"entries"`
	ProposalsPerEntry float64 `json:"proposals_per_entry"`
	// surat_raft_forwarded_entries_total: entries a follower forwarded.
	Forwarded int `json:"forwarded_entries"`
	// surat_proposals_total by result.
	Results map[string]int `json:"proposal_results,omitempty"`
}

// Scrape is one reading of several nodes' /metrics, every series summed
// over the nodes.
type Scrape map[string]float64

var metricsClient = &http.Client{Timeout: 5 * time.Second}

// ScrapeAll reads every URL (a node's /metrics) and sums the series.
func ScrapeAll(urls []string) (Scrape, error) {
	s := Scrape{}
	for _, u := range urls {
		resp, err := metricsClient.Get(u)
		if err != nil {
			return nil, err
		}
		err = s.add(resp.Body)
		resp.Body.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", u, err)
		}
		if resp.StatusCode != http.StatusOK {
			return nil, fmt.Errorf("%s: %s", u, resp.Status)
		}
	}
	return s, nil
}

// add parses the Prometheus text format's sample lines ("name{labels}
// value [timestamp]") and adds them to s, keyed by "name{labels}" as
// written.
func (s Scrape) add(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		// Labels may hold spaces only inside quotes; ours do not.
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		v, err := strconv.ParseFloat(fields[1], 64)
		if err != nil {
			continue
		}
		s[fields[0]] += v
	}
	return sc.Err()
}

// Delta is after minus before, as ServerMetrics, for scrapes of nodes
// nodes.
func Delta(before, after Scrape, nodes int) *ServerMetrics {
	d := func(key string) float64 { return after[key] - before[key] }
	m := &ServerMetrics{
		Proposals: int(d("surat_propose_duration_seconds_count")),
		Entries:   int(d("surat_raft_entry_proposals_count")) / max(nodes, 1),
		Forwarded: int(d("surat_raft_forwarded_entries_total")),
	}
	if m.Proposals > 0 {
		m.ProposeMeanMs = 1000 * d("surat_propose_duration_seconds_sum") / float64(m.Proposals)
		buckets := histogramDelta(before, after, "surat_propose_duration_seconds")
		m.ProposeP50Ms = 1000 * bucketQuantile(buckets, 0.50)
		m.ProposeP99Ms = 1000 * bucketQuantile(buckets, 0.99)
	}
	if n := d("surat_raft_entry_proposals_count"); n > 0 {
		m.ProposalsPerEntry = d("surat_raft_entry_proposals_sum") / n
	}
	const prefix = `surat_proposals_total{result="`
	for key := range after {
		if res, ok := strings.CutPrefix(key, prefix); ok {
			if n := int(d(key)); n != 0 {
				if m.Results == nil {
					m.Results = map[string]int{}
				}
				m.Results[strings.TrimSuffix(res, `"}`)] = n
			}
		}
	}
	return m
}

// bucket is one cumulative histogram bucket: count of observations <= le.
type bucket struct {
	le    float64
	count float64
}

// histogramDelta is the buckets of an unlabelled histogram, after minus
// before, sorted by upper bound.
func histogramDelta(before, after Scrape, name string) []bucket {
	var bs []bucket
	prefix := name + `_bucket{le="`
	for key, v := range after {
		le, ok := strings.CutPrefix(key, prefix)
		if !ok {
			continue
		}
		bound, err := strconv.ParseFloat(strings.TrimSuffix(le, `"}`), 64)
		if err != nil {
			continue
		}
		bs = append(bs, bucket{le: bound, count: v - before[key]})
	}
	slices.SortFunc(bs, func(a, b bucket) int { return cmpFloat(a.le, b.le) })
	return bs
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// bucketQuantile estimates the q-quantile (0 < q <= 1) from cumulative
// buckets as Prometheus's histogram_quantile does: linear within the
// bucket that holds it; the largest finite bound if it falls in +Inf.
func bucketQuantile(bs []bucket, q float64) float64 {
	if len(bs) == 0 || bs[len(bs)-1].count == 0 {
		return 0
	}
	rank := q * bs[len(bs)-1].count
	lower, below := 0.0, 0.0
	for i, b := range bs {
		if b.count >= rank {
			if math.IsInf(b.le, 1) {
				if i == 0 {
					return 0
				}
				return bs[i-1].le
			}
			if b.count == below {
				return b.le
			}
			return lower + (b.le-lower)*(rank-below)/(b.count-below)
		}
		lower, below = b.le, b.count
	}
	return bs[len(bs)-1].le
}
