package clientwatch

import (
	"io"
	"net"
	"testing"
	"time"
)

// pair is a real TCP connection: the server side wrapped, and the client.
func pair(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return New(server), client
}

func TestWatchSeesClientLeave(t *testing.T) {
	c, client := pair(t)
	gone := make(chan struct{})
	stop := c.Watch(func() { close(gone) })
	defer stop()
	client.Close()
	select {
	case <-gone:
	case <-time.After(5 * time.Second):
		t.Fatal("client left, gone not called")
	}
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("Read after the client left: %v, want EOF", err)
	}
}

func TestWatchKeepsPipelinedBytes(t *testing.T) {
	c, client := pair(t)
	stop := c.Watch(func() { t.Error("gone called for a client that stayed") })
	if _, err := client.Write([]byte("NOOP\r\n")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	stop()
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, 6)
	if _, err := io.ReadFull(c, got); err != nil || string(got) != "NOOP\r\n" {
		t.Fatalf("read %q, %v; want the pipelined command whole", got, err)
	}
}

func TestStopWithoutTraffic(t *testing.T) {
	c, client := pair(t)
	stop := c.Watch(func() { t.Error("gone called for a client that stayed") })
	stop()
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	b := make([]byte, 1)
	if _, err := c.Read(b); err != nil || b[0] != 'x' {
		t.Fatalf("read %q, %v after a stopped watch", b, err)
	}
}
