package smtpload

import (
	"context"
	"fmt"
)

// Server is a server process whose tree's CPU time RunTimed counts
// (proc.Node is one).
type Server interface {
	ID() string // names it in errors
	PID() int
}

// ServersCPU is the CPU time (user+system, seconds) the process trees of
// servers have used so far (TreeCPU), summed.
func ServersCPU[S Server](servers []S) (float64, error) {
	var sum float64
	for _, s := range servers {
		v, err := TreeCPU(s.PID())
		if err != nil {
			return 0, fmt.Errorf("%s's CPU time: %w", s.ID(), err)
		}
		sum += v
	}
	return sum, nil
}

// RunTimed is a run with a warm-up: the first warmup messages of
// cfg.Corpus untimed, then cfg.Messages messages (the rest of the Corpus)
// timed. Every message must be accepted, else it returns an error. Of the
// timed part it returns the Result, with the load average before and
// after, the client's CPU time, the machine's busy fraction and the CPU
// time of what else ran filled in, and the CPU time the servers' process
// trees used (ServersCPU).
func RunTimed[S Server](ctx context.Context, cfg Config, warmup int, servers []S) (*Result, float64, error) {
	if warmup > len(cfg.Corpus) {
		return nil, 0, fmt.Errorf("smtpload: a warm-up of %d messages, a corpus of %d", warmup, len(cfg.Corpus))
	}
	if warmup > 0 {
		w := cfg
		w.Messages, w.Corpus = warmup, cfg.Corpus[:warmup]
		res, err := Run(ctx, w)
		if err != nil {
			return nil, 0, err
		}
		if res.Errors > 0 {
			return nil, 0, fmt.Errorf("warm-up: %d of %d messages refused: %v", res.Errors, res.Attempted, res.ErrorKinds)
		}
	}
	timed := cfg
	timed.Corpus = cfg.Corpus[warmup:]
	cpu0, err := ServersCPU(servers)
	if err != nil {
		return nil, 0, err
	}
	load1 := Load1()
	busy0, total0, _ := MachineCPU()
	self0 := SelfCPU()
	res, err := Run(ctx, timed)
	if err != nil {
		return nil, 0, err
	}
	cpu1, err := ServersCPU(servers)
	if err != nil {
		return nil, 0, err
	}
	res.ClientCPUS = SelfCPU() - self0
	if busy1, total1, err := MachineCPU(); err == nil && total1 > total0 {
		res.MachineBusy = float64(busy1-busy0) / float64(total1-total0)
		res.OtherCPUS = max(float64(busy1-busy0)/UserHZ-res.ClientCPUS-(cpu1-cpu0), 0)
	}
	res.Load1Before, res.Load1After = load1, Load1()
	if res.Errors > 0 || res.Accepted != cfg.Messages {
		return res, cpu1 - cpu0, fmt.Errorf("%d of %d messages accepted, %d refused: %v", res.Accepted, cfg.Messages, res.Errors, res.ErrorKinds)
	}
	return res, cpu1 - cpu0, nil
}
