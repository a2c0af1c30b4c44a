// Package clustertest holds helpers for tests and benchmarks that run Surat
// nodes on loopback. It is imported only from _test files.
package clustertest

import (
	"net"
	"strconv"
	"testing"
)

// FreePorts returns count distinct loopback ports that are free for both
// TCP and UDP right now (memberlist gossips over both on one port).
func FreePorts(tb testing.TB, count int) []int {
	tb.Helper()
	var ports []int
	var held []func()
	defer func() {
		for _, release := range held {
			release()
		}
	}()
	for len(ports) < count {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		pc, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			ln.Close()
			continue
		}
		held = append(held, func() { ln.Close(); pc.Close() })
		ports = append(ports, port)
	}
	return ports
}
