//go:build unix && !linux

package proc

import (
	"os/exec"
	"syscall"
)

// setProcAttr puts the node in a process group of its own, which Kill and
// Stop signal. Outside Linux there is no parent-death signal: Close
// is what kills the nodes.
func setProcAttr(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
}
