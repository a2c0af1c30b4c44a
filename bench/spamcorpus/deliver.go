package spamcorpus

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"sort"
	"strings"
	"sync"
	"time"
)

// deliverAttempts bounds the tries of one message: a temporary failure (a
// 4xx, a connection that fails) is tried again on the next address, as an
// MTA walks its MX list.
const deliverAttempts = 5

// Sender is message m's envelope sender, by which it is found again.
func Sender(m Message) string { return fmt.Sprintf("msg-%d@%s", m.Index, SenderDomain) }

// Deliver sends every message to rcpt over SMTP (a new connection per
// message, the addresses taken in turn) from senders concurrent clients.
// Every message must be accepted: a refusal, or a temporary failure on
// every attempt, is an error naming the messages.
func Deliver(ctx context.Context, addrs []string, rcpt string, msgs []Message, senders int) error {
	var (
		mu     sync.Mutex
		next   int
		failed = map[string]int{}
		first  []string
		wg     sync.WaitGroup
	)
	for range senders {
		wg.Go(func() {
			for ctx.Err() == nil {
				mu.Lock()
				n := next
				next++
				mu.Unlock()
				if n >= len(msgs) {
					return
				}
				var err error
				for a := range deliverAttempts {
					err = send(ctx, addrs[(n+a)%len(addrs)], Sender(msgs[n]), rcpt, msgs[n].Raw)
					if err == nil || !temporary(err) {
						break
					}
					time.Sleep(time.Duration(a+1) * 100 * time.Millisecond)
				}
				if err != nil {
					mu.Lock()
					failed[errKind(err)]++
					if len(first) < 5 {
						first = append(first, fmt.Sprintf("%s: %v", msgs[n].Name, err))
					}
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(failed) > 0 {
		var kinds []string
		total := 0
		for k, n := range failed {
			kinds = append(kinds, fmt.Sprintf("%d× %s", n, k))
			total += n
		}
		sort.Strings(kinds)
		return fmt.Errorf("%d of %d messages not delivered (%s): %s", total, len(msgs), strings.Join(kinds, ", "), strings.Join(first, "; "))
	}
	return nil
}

// send makes one SMTP transaction on a fresh connection.
func send(ctx context.Context, addr, from, rcpt string, raw []byte) error {
	d := net.Dialer{Timeout: 10 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return err
	}
	defer conn.Close()
	// Generous: a message is classified before the 250.
	conn.SetDeadline(time.Now().Add(2 * time.Minute))
	host, _, _ := net.SplitHostPort(addr)
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("client." + SenderDomain); err != nil {
		return err
	}
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(rcpt); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	// The DotWriter stuffs dots (RFC 5321 §4.5.2); raw's lines already
	// end in CRLF.
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	// Accepted: a failed QUIT must not make the message be sent again.
	_ = c.Quit()
	return nil
}

// temporary says whether a failure may be retried: a 4xx reply or any
// failure without a reply.
func temporary(err error) bool {
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code/100 == 4
	}
	return true
}

func errKind(err error) string {
	var te *textproto.Error
	if errors.As(err, &te) {
		return fmt.Sprintf("reply %d", te.Code)
	}
	return "connection: " + err.Error()
}
