package imap

import (
	"strings"
	"time"
)

// cmdIdle: IDLE (RFC 2177, RFC 9051 §6.3.13). While the client idles, the
// node's feed wakes every session of the mailbox at once, whichever node
// the change was made on, and the changes are sent as they come. A
// goroutine reads the client's "DONE" meanwhile; it is the only reader of
// the connection until IDLE ends.
func cmdIdle(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	// The idle deadline is set before the continuation, then a BYE
	// requested meanwhile (shutdown, revocation) is looked for: its
	// deadline in the past (requestBye) must not be overwritten by this
	// one, or the session would idle on, deaf to it, until authIdle.
	s.setReadDeadline(authIdle)
	if text := s.bye.Load(); text != nil {
		return &byeError{text: *text}
	}
	s.enc.Continuation("idling")
	if err := s.flush(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() {
		line, err := c.dec.ReadLine()
		if err == nil && !strings.EqualFold(line, "DONE") {
			err = bad("Expected DONE to end IDLE")
		}
		done <- err
	}()
	// stop ends the reader's wait (a read deadline in the past) and waits
	// for it: only then may the connection be read again.
	stop := func(err error) error {
		_ = s.base.SetReadDeadline(time.Unix(1, 0))
		<-done
		return err
	}
	for {
		var wake <-chan struct{}
		if s.sel != nil {
			s.syncRights() // shared.go: the ACL may have changed
			cur, w := s.sel.state.current()
			if err := s.sel.report(s.updates(), cur, true); err != nil {
				return stop(err)
			}
			if err := s.flush(); err != nil {
				return stop(err)
			}
			wake = w
		}
		select {
		case <-wake:
		case <-s.notifyWake(): // RFC 5465 (notify.go)
			if err := s.deliverNotifications(); err != nil {
				return stop(err)
			}
			if err := s.flush(); err != nil {
				return stop(err)
			}
		case err := <-done:
			return err
		case <-s.ctx.Done():
			return stop(s.ctx.Err())
		}
	}
}
