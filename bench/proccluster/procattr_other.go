//go:build !linux

package proccluster

import "os/exec"

// dieWithParent is best effort elsewhere: Close kills the nodes.
func dieWithParent(*exec.Cmd) {}
