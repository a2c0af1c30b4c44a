package cluster

import (
	"fmt"
	"syscall"
)

// freeSpace is the number of bytes an unprivileged process may still write
// on the filesystem holding path (statfs f_bavail: without the blocks kept
// for root, which Surat should not count on).
func freeSpace(path string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(path, &st); err != nil {
		return 0, fmt.Errorf("statfs %s: %w", path, err)
	}
	return st.Bavail * uint64(st.Bsize), nil
}
