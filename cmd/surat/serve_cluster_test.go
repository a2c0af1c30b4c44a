package main

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/surat-mail/surat/cluster/clustertest"
)

// serveNode is one `surat serve` running in this process.
type serveNode struct {
	id                                 string
	http, smtp, submission, imap, pop3 string
	imaps, pop3s                       string
	managesieve                        string
}

func (n *serveNode) url() string { return "http://" + n.http }

// startServeCluster runs size nodes of `surat serve` in this process, on
// loopback with real sockets, exactly as the binary wires them, and waits
// until every node is ready. They stop (SIGTERM's path) when the test ends.
// extra flags are given to every node.
func startServeCluster(t *testing.T, size int, extra ...string) []*serveNode {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a three-node cluster")
	}
	const perNode = 10
	ports := clustertest.FreePorts(t, perNode*size)
	addr := func(i, k int) string { return fmt.Sprintf("127.0.0.1:%d", ports[perNode*i+k]) }
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() {
		cancel()
		wg.Wait()
	})
	dir := t.TempDir()
	var nodes []*serveNode
	for i := range size {
		n := &serveNode{id: fmt.Sprintf("n%d", i+1), http: addr(i, 2), smtp: addr(i, 3), submission: addr(i, 4),
			imap: addr(i, 5), pop3: addr(i, 6), imaps: addr(i, 7), pop3s: addr(i, 8), managesieve: addr(i, 9)}
		var join []string
		for j := range size {
			if j != i {
				join = append(join, addr(j, 1))
			}
		}
		args := []string{"serve", "--id", n.id, "--data", filepath.Join(dir, n.id),
			"--raft", addr(i, 0), "--gossip", addr(i, 1), "--join", strings.Join(join, ","),
			"--bootstrap-expect", fmt.Sprint(size), "--domain", "example.test", "--http", n.http,
			"--smtp", n.smtp, "--submission", n.submission, "--imap", n.imap, "--pop3", n.pop3,
			"--imaps", n.imaps, "--pop3s", n.pop3s, "--managesieve", n.managesieve, "--resolver", "none", "--log-level", "error",
			// Generous under -race on two cores.
			"--raft-heartbeat-timeout", "1s", "--raft-election-timeout", "1s", "--raft-lease-timeout", "500ms"}
		args = append(args, extra...)
		wg.Add(1)
		go func() {
			defer wg.Done()
			var logs strings.Builder
			e := &env{args: args, stdin: strings.NewReader(""), stdout: io.Discard, stderr: &syncWriter{w: &logs},
				getenv: envOf(nil)}
			if code := run(ctx, e); code != 0 {
				t.Errorf("serve %s: exit %d: %s", n.id, code, logs.String())
			}
		}()
		nodes = append(nodes, n)
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, n := range nodes {
		for {
			resp, err := http.Get(n.url() + "/readyz")
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("node %s not ready within 60 s", n.id)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	return nodes
}

// syncWriter lets a node's logger and the test read one buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// greetingLine dials addr from the loopback address from (over TLS when
// implicit) and returns the server's first line, or "" when it closed
// without one.
func greetingLine(t *testing.T, from, addr string, implicit bool) string {
	t.Helper()
	d := &net.Dialer{Timeout: 5 * time.Second, LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	var c net.Conn
	var err error
	if implicit {
		c, err = tls.DialWithDialer(d, "tcp", addr, &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			return "" // closed before the handshake: refused without a word
		}
	} else if c, err = d.Dial("tcp", addr); err != nil {
		t.Fatalf("dial %s: %v", addr, err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	line, _ := bufio.NewReader(c).ReadString('\n')
	return strings.TrimRight(line, "\r\n")
}
