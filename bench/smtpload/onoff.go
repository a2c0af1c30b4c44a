package smtpload

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
