package imap

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestShutdownSaysBye: Shutdown sends BYE at once to a session waiting
// for a command and to one in IDLE, closes them, and returns without
// waiting out its deadline; the listeners stop accepting.
func TestShutdownSaysBye(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "shutdown", password)
	srv, _, addr := c.serve(t, c.Nodes[0], nil)
	waiting := rawLogin(t, addr, user, password)
	idling := rawLogin(t, addr, user, password)
	fmt.Fprintf(idling.conn, "s SELECT INBOX\r\n")
	for l := idling.line(t); !strings.HasPrefix(l, "s "); l = idling.line(t) {
	}
	fmt.Fprintf(idling.conn, "i IDLE\r\n")
	if l := idling.line(t); !strings.HasPrefix(l, "+ ") {
		t.Fatalf("IDLE: %q", l)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(ctx) }()
	waiting.expectBye(t, 5*time.Second)
	idling.expectBye(t, 5*time.Second)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Shutdown still waiting after its sessions ended")
	}
	if n := srv.panics.Load(); n > 0 {
		t.Fatalf("%d panics", n)
	}
}

// TestPipelinedCommands: commands sent at once are answered in order,
// literals and all.
func TestPipelinedCommands(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "pipeline", password)
	_, _, addr := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, addr, user)
	defer rc.conn.Close()
	rc.conn.Write([]byte("a NOOP\r\nb APPEND INBOX {5+}\r\nhello\r\nc SELECT INBOX\r\nd FETCH 1 BODY[]\r\ne LOGOUT\r\n"))
	var tags []string
	for {
		l := rc.line()
		if l == "" {
			break
		}
		if f := strings.Fields(l); len(f) > 1 && f[0] != "*" && (f[1] == "OK" || f[1] == "NO" || f[1] == "BAD") {
			tags = append(tags, f[0]+" "+f[1])
		}
	}
	if got := strings.Join(tags, ","); got != "a OK,b OK,c OK,d OK,e OK" {
		t.Fatalf("replies %s", got)
	}
}
