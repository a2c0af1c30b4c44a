package imapext

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"time"

	"github.com/surat-mail/surat/cluster/clustertest"
	"github.com/surat-mail/surat/cluster/faults/proc"
)

// Surat is a three-node cluster of real `surat serve` processes (the
// bench's one driver, cluster/faults/proc), each also serving IMAP over
// implicit TLS (--imaps, RFC 8314) with its self-signed certificate.
type Surat struct {
	*proc.Cluster
	// IMAPS is each node's --imaps address, in node order.
	IMAPS []string
}

// StartSurat starts the cluster with its data under dir and adds users,
// each with password pass. The caller closes it.
func StartSurat(ctx context.Context, bin, dir string, users []string, pass string) (*Surat, error) {
	const size = 3
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	ports, err := clustertest.Ports(size)
	if err != nil {
		return nil, fmt.Errorf("imaps ports: %w", err)
	}
	addrs := make([]string, size)
	for i, p := range ports {
		addrs[i] = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
	}
	c, err := proc.Start(ctx, proc.Options{Bin: bin, Dir: dir, Size: size, LogLevel: "warn",
		Node: func(i int) proc.NodeSpec { return proc.NodeSpec{ExtraArgs: []string{"--imaps", addrs[i]}} },
	}, 90*time.Second)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if err := c.AddUser(ctx, u, pass); err != nil {
			c.Close()
			return nil, err
		}
	}
	if _, err := proc.Within(ctx, 60*time.Second, c.WaitConverged); err != nil {
		c.Close()
		return nil, fmt.Errorf("after adding the users: %w", err)
	}
	return &Surat{Cluster: c, IMAPS: addrs}, nil
}
