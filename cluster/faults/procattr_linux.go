package faults

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the node in a process group of its own (Kill and Stop
// signal the group) and makes the kernel kill it when the test process
// dies (a crash, a test timeout, ^C), so no node outlives its test.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
