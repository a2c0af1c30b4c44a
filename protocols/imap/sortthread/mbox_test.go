package sortthread

import (
	"os"
	"strings"
	"testing"
	"time"
)

// readMbox reads an imaptest mbox: messages after "From " lines that
// carry the internal date (asctime, optionally a zone), the blank line
// before the next "From " line being the separator. IDs are sequence
// numbers from 1.
func readMbox(t *testing.T, name string) []Message {
	t.Helper()
	data, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	var msgs []Message
	var cur []string
	var arrival time.Time
	flush := func() {
		if cur == nil {
			return
		}
		if n := len(cur); n > 0 && cur[n-1] == "" {
			cur = cur[:n-1]
		}
		raw := strings.Join(cur, "\r\n") + "\r\n"
		msgs = append(msgs, Message{ID: uint32(len(msgs) + 1), Arrival: arrival.Unix(), Size: uint64(len(raw)),
			Summary: Summarize([]byte(raw))})
	}
	for _, line := range strings.Split(strings.TrimRight(string(data), "\n"), "\n") {
		if strings.HasPrefix(line, "From ") {
			flush()
			cur = []string{}
			f := strings.Fields(line)
			stamp := strings.Join(f[2:7], " ")
			arrival, err = time.Parse("Mon Jan _2 15:04:05 2006", stamp)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			if len(f) > 7 {
				z, err := time.Parse("-0700", f[7])
				if err != nil {
					t.Fatal(err)
				}
				_, off := z.Zone()
				arrival = arrival.Add(-time.Duration(off) * time.Second)
			}
			continue
		}
		cur = append(cur, line)
	}
	flush()
	return msgs
}

// criteria parses "reverse date size" into criteria.
func criteria(t *testing.T, s string) []Criterion {
	t.Helper()
	var out []Criterion
	rev := false
	for _, w := range strings.Fields(s) {
		if strings.EqualFold(w, "reverse") {
			rev = true
			continue
		}
		k, ok := ParseKey(w)
		if !ok {
			t.Fatalf("key %q", w)
		}
		out = append(out, Criterion{Key: k, Reverse: rev})
		rev = false
	}
	return out
}
