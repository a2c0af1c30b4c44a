package smtpload

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// OnOff is the rounds of a run that alternates a server feature on and
// off (the spam classifier, the authentication checks): msgs/s and the
// servers' CPU time per message of each round, in round order.
type OnOff struct {
	On, Off       []float64 // msgs/s of each round
	CPUOn, CPUOff []float64 // server CPU ms per message
}

// Ratio is the median msgs/s with the feature on over the median with it
// off (0 when either is missing).
func (s OnOff) Ratio() float64 {
	if len(s.On) == 0 || len(s.Off) == 0 || Median(s.Off) == 0 {
		return 0
	}
	return Median(s.On) / Median(s.Off)
}

// PairedRatio is the median over rounds r of on round r's msgs/s over
// off round r's: each pair ran back to back, so a change in what else
// loads the machine moves both sides of a pair more than it moves the
// medians' sides (0 when there is no pair).
func (s OnOff) PairedRatio() float64 {
	var v []float64
	for i := range min(len(s.On), len(s.Off)) {
		if s.Off[i] > 0 {
			v = append(v, s.On[i]/s.Off[i])
		}
	}
	return Median(v)
}

// CPURatio is the servers' median CPU time per message with the feature
// off over that with it on: the throughput ratio to expect where the
// servers' CPU is what bounds ingest, and steadier than msgs/s when other
// work shares the machine (0 when either is missing).
func (s OnOff) CPURatio() float64 {
	on := Median(s.CPUOn)
	if len(s.CPUOff) == 0 || on == 0 {
		return 0
	}
	return Median(s.CPUOff) / on
}

// Add counts one round: its msgs/s and the servers' CPU ms per message,
// on the on side or the off side.
func (s *OnOff) Add(on bool, msgsPerS, cpuMsPerMsg float64) {
	if on {
		s.On, s.CPUOn = append(s.On, msgsPerS), append(s.CPUOn, cpuMsPerMsg)
	} else {
		s.Off, s.CPUOff = append(s.Off, msgsPerS), append(s.CPUOff, cpuMsPerMsg)
	}
}

// OnOffColumns is the header cells of an on/off summary row (Cells),
// without the outer bars: target is the on/off ratio to reach.
func OnOffColumns(target float64) string {
	return fmt.Sprintf("rounds on / off | msgs/s off (median) | msgs/s on (median) | **on / off** (target ≥ %.2f) | on / off, round pairs (median) | server CPU ms/msg off → on (off / on)", target)
}

// OnOffAlign is the alignment cells under OnOffColumns.
const OnOffAlign = "---:|---:|---:|---:|---:|---:"

// Cells is the summary row's cells under OnOffColumns, without the outer
// bars: round counts, medians with their ranges, the ratio with its
// verdict against target, the round pairs' ratio, and the servers' CPU.
func (s OnOff) Cells(target float64) string {
	verdict := "met"
	if s.Ratio() < target {
		verdict = "**not met**"
	}
	return fmt.Sprintf("%d / %d | %.0f (%s) | %.0f (%s) | **%.2f** (%s) | %.2f | %.2f → %.2f (%.2f)",
		len(s.On), len(s.Off), Median(s.Off), Range(s.Off), Median(s.On), Range(s.On), s.Ratio(), verdict, s.PairedRatio(),
		Median(s.CPUOff), Median(s.CPUOn), s.CPURatio())
}

// Range is "lo–hi" of v, whole numbers; "–" for none.
func Range(v []float64) string {
	if len(v) == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f–%.0f", slices.Min(v), slices.Max(v))
}

// Loads is the range of the one-minute load average before the rounds of
// a run.
type Loads struct {
	LoadLo, LoadHi float64
	seen           bool
}

// AddLoad widens the range to load.
func (l *Loads) AddLoad(load float64) {
	if !l.seen {
		l.LoadLo, l.LoadHi, l.seen = load, load, true
	}
	l.LoadLo, l.LoadHi = min(l.LoadLo, load), max(l.LoadHi, load)
}

// ReadJSONLines reads values of T, one JSON object a line; blank lines
// are skipped, and an error names its line.
func ReadJSONLines[T any](r io.Reader) ([]T, error) {
	var out []T
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var v T
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			return nil, fmt.Errorf("line %d: %w", line, err)
		}
		out = append(out, v)
	}
	return out, sc.Err()
}
