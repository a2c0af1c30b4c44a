// Package clustertest holds helpers for tests and benchmarks that run Surat
// nodes on loopback (tests, the fault harness and the bench tools).
package clustertest

import (
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
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
//
// The ports are drawn at random from below the kernel's ephemeral range,
// never from it: a port the kernel handed out for ":0" is free again the
// moment it is released, and the kernel hands it to the next outgoing
// connection of any process (parallel test binaries dial thousands), so a
// node binding it a second later could find it taken.
func Ports(count int) ([]int, error) {
	low, high := portRange()
	var ports []int
	var held []func()
	defer func() {
		for _, release := range held {
			release()
		}
	}()
	seen := map[int]bool{}
	for tries := 0; len(ports) < count; tries++ {
		if tries > 10*count+100 {
			return nil, errors.New("clustertest: could not find free loopback ports")
		}
		port := low + rand.IntN(high-low)
		if seen[port] {
			continue
		}
		seen[port] = true
		ln, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue
		}
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

// portRange is the range Ports draws from: from 10000 up to the start of
// the kernel's ephemeral range (32768 when it cannot be read).
func portRange() (low, high int) {
	low, high = 10000, 32768
	b, err := os.ReadFile("/proc/sys/net/ipv4/ip_local_port_range")
	if err != nil {
		return low, high
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return low, high
	}
	if start, err := strconv.Atoi(fields[0]); err == nil && start > low+1000 {
		high = start
	}
	return low, high
}
