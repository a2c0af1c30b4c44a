// Package clustertest holds helpers for tests and benchmarks that run Surat
// nodes on loopback (tests, the fault harness and the bench tools).
package clustertest

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"testing"
)

// FreePorts returns count distinct loopback ports that are free for both
// TCP and UDP right now (memberlist gossips over both on one port); it
// ends the test when there are none.
func FreePorts(tb testing.TB, count int) []int {
	tb.Helper()
	ports, err := Ports(count)
	if err != nil {
		tb.Fatal(err)
	}
	return ports
}

// Ports is FreePorts for callers that are not tests.
func Ports(count int) ([]int, error) {
	var ports []int
	var held []func()
	defer func() {
		for _, release := range held {
			release()
		}
	}()
	for tries := 0; len(ports) < count; tries++ {
		if tries > 10*count+100 {
			return nil, errors.New("clustertest: could not find free loopback ports")
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("clustertest: free port: %w", err)
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
	return ports, nil
}
