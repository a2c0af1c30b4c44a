package imap

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"
)

// TestHeldWrites: while held, writes reach the wire only heldWriteSize at
// a time, in order; release sends the rest and keeps no buffer.
func TestHeldWrites(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	raw, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	c := &limitedConn{Conn: raw}
	defer raw.Close()

	// nothing reports whether no byte arrives within a short wait (a slow
	// machine can only make it pass, never fail wrongly); receive waits
	// for exactly n bytes.
	nothing := func() int {
		_ = client.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		buf := make([]byte, 4*heldWriteSize)
		total := 0
		for {
			n, err := client.Read(buf)
			total += n
			if err != nil {
				return total
			}
		}
	}
	receive := func(n int) error {
		_ = client.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err := io.ReadFull(client, make([]byte, n))
		return err
	}
	var want bytes.Buffer
	c.holdWrites()
	for i := range 10 {
		line := bytes.Repeat([]byte{byte('a' + i)}, 100)
		want.Write(line)
		if n, err := c.Write(line); n != len(line) || err != nil {
			t.Fatalf("held write: %d, %v", n, err)
		}
	}
	if n := nothing(); n != 0 {
		t.Fatalf("%d bytes on the wire while held", n)
	}
	if err := c.releaseWrites(); err != nil {
		t.Fatal(err)
	}
	if c.held != nil {
		t.Errorf("released connection keeps a %d-byte buffer", cap(c.held))
	}
	_ = client.SetReadDeadline(time.Now().Add(5 * time.Second))
	got := make([]byte, want.Len())
	if _, err := io.ReadFull(client, got); err != nil || !bytes.Equal(got, want.Bytes()) {
		t.Fatalf("after release: %v, order kept %v", err, bytes.Equal(got, want.Bytes()))
	}

	// More than heldWriteSize while held: the excess goes out at once.
	c.holdWrites()
	big := bytes.Repeat([]byte("x"), heldWriteSize+10)
	if _, err := c.Write(big); err != nil {
		t.Fatal(err)
	}
	if err := receive(len(big)); err != nil {
		t.Errorf("held data past %d bytes not sent: %v", heldWriteSize, err)
	}
	if err := c.releaseWrites(); err != nil {
		t.Fatal(err)
	}
	// Not held: straight through.
	if _, err := c.Write([]byte("now")); err != nil {
		t.Fatal(err)
	}
	if err := receive(3); err != nil {
		t.Errorf("unheld write: %v", err)
	}
}
