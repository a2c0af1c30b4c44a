package proc

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the node in a process group of its own (Kill and Stop
// signal the group) and makes the kernel kill it when the process
// dies (a crash, a timeout, ^C), so no node outlives the test or tool
// that started it.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
