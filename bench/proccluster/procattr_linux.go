package proccluster

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd when the benchmark process dies
// (a crash, a timeout, ^C), so no node outlives it.
func dieWithParent(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
