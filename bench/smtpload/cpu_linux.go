package smtpload

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// UserHZ is the unit of the CPU times in /proc (sysconf(_SC_CLK_TCK)),
// 100 on every Linux this runs on.
const UserHZ = 100

// TreeCPU is the CPU time (user+system, seconds) used so far by the process
// pid and all its live descendants, including the children they have
// already reaped (cutime, cstime). The difference of two readings is what
// the tree used in between, even when short-lived workers (Postfix's
// smtpd and cleanup, Dovecot's lmtp) come and go, as long as their parent
// is in the tree.
func TreeCPU(pid int) (float64, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	type proc struct {
		ppid  int
		ticks int64
	}
	procs := map[int]proc{}
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		ppid, ticks, err := readStat(p)
		if err != nil {
			continue // gone meanwhile
		}
		procs[p] = proc{ppid, ticks}
	}
	if _, ok := procs[pid]; !ok {
		return 0, errors.New("no process " + strconv.Itoa(pid))
	}
	children := map[int][]int{}
	for p, pr := range procs {
		children[pr.ppid] = append(children[pr.ppid], p)
	}
	var total int64
	queue := []int{pid}
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		total += procs[p].ticks
		queue = append(queue, children[p]...)
	}
	return float64(total) / UserHZ, nil
}

// readStat returns a process's parent and its utime+stime+cutime+cstime.
func readStat(pid int) (ppid int, ticks int64, err error) {
	b, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0, 0, err
	}
	// The command name is in parentheses and may contain anything.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	// After the name: state ppid ... utime(14) stime(15) cutime(16) cstime(17),
	// counted from 1 with pid and comm as fields 1 and 2.
	if len(f) < 15 {
		return 0, 0, errors.New("short stat")
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, err
	}
	for _, s := range f[11:15] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		ticks += v
	}
	return ppid, ticks, nil
}

// MachineCPU returns the jiffies (1/UserHZ s) all cores spent busy and in
// total so far (the "cpu" line of /proc/stat; iowait counts as idle).
func MachineCPU() (busy, total int64, err error) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0, err
	}
	line, _, _ := bytes.Cut(b, []byte("\n"))
	f := strings.Fields(string(line))
	if len(f) < 6 || f[0] != "cpu" {
		return 0, 0, errors.New("malformed /proc/stat")
	}
	for i, s := range f[1:] {
		v, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		if i < 8 { // user nice system idle iowait irq softirq steal; guest is in user
			total += v
			if i != 3 && i != 4 {
				busy += v
			}
		}
	}
	return busy, total, nil
}

// Load1 is the one-minute load average.
func Load1() float64 {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) == 0 {
		return 0
	}
	v, _ := strconv.ParseFloat(f[0], 64)
	return v
}

// SelfCPU is this process's user+system CPU time so far, in seconds.
func SelfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
