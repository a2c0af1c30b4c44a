//go:build !linux

package smtpload

import "errors"

// UserHZ is the unit of MachineCPU's counts.
const UserHZ = 100

var errNoProc = errors.New("smtpload: CPU accounting needs Linux's /proc")

// TreeCPU needs /proc; elsewhere it reports an error and the run goes on.
func TreeCPU(int) (float64, error) { return 0, errNoProc }

// MachineCPU needs /proc.
func MachineCPU() (busy, total int64, err error) { return 0, 0, errNoProc }

// Load1 needs /proc; zero elsewhere.
func Load1() float64 { return 0 }

// SelfCPU is not measured elsewhere.
func SelfCPU() float64 { return 0 }
