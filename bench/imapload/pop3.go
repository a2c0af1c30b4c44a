package imapload

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"
)

// pop3Client is a minimal POP3 client (RFC 1939, STLS from RFC 2595): one
// command at a time, multi-line responses read to the terminating ".".
type pop3Client struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
}

func dialPOP3(c Conn) (*pop3Client, error) {
	conn, err := net.DialTimeout("tcp", c.Addr, 30*time.Second)
	if err != nil {
		return nil, err
	}
	p := &pop3Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), w: bufio.NewWriter(conn)}
	if _, err := p.status(); err != nil { // greeting
		conn.Close()
		return nil, fmt.Errorf("greeting: %w", err)
	}
	if c.StartTLS {
		if _, err := p.cmd("STLS"); err != nil {
			conn.Close()
			return nil, fmt.Errorf("STLS: %w", err)
		}
		tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // loopback benchmark
		if err := tc.Handshake(); err != nil {
			conn.Close()
			return nil, fmt.Errorf("TLS: %w", err)
		}
		p.conn = tc
		p.r = bufio.NewReaderSize(tc, 64<<10)
		p.w = bufio.NewWriter(tc)
	}
	return p, nil
}

func (p *pop3Client) close() { p.conn.Close() }

// status reads one status line: +OK text, or an error for -ERR.
func (p *pop3Client) status() (string, error) {
	_ = p.conn.SetReadDeadline(time.Now().Add(60 * time.Second))
	line, err := p.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	line = strings.TrimRight(line, "\r\n")
	if rest, ok := strings.CutPrefix(line, "+OK"); ok {
		return strings.TrimSpace(rest), nil
	}
	return "", fmt.Errorf("server said %q", line)
}

func (p *pop3Client) cmd(format string, args ...any) (string, error) {
	_ = p.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	fmt.Fprintf(p.w, format+"\r\n", args...)
	if err := p.w.Flush(); err != nil {
		return "", err
	}
	return p.status()
}

// multi reads a multi-line response body up to the "." line into w, with
// the byte-stuffing undone; it returns the lines read and the octets.
func (p *pop3Client) multi(w io.Writer) (lines int, octets int64, err error) {
	for {
		line, err := p.r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			// A line longer than the buffer: take it in pieces.
			n, _ := w.Write(line)
			octets += int64(n)
			continue
		}
		if err != nil {
			return lines, octets, err
		}
		if bytes.Equal(line, []byte(".\r\n")) {
			return lines, octets, nil
		}
		if len(line) > 0 && line[0] == '.' {
			line = line[1:]
		}
		n, _ := w.Write(line)
		octets += int64(n)
		lines++
	}
}

func (p *pop3Client) login(user, pass string) error {
	if _, err := p.cmd("USER %s", user); err != nil {
		return fmt.Errorf("USER: %w", err)
	}
	if _, err := p.cmd("PASS %s", pass); err != nil {
		return fmt.Errorf("PASS: %w", err)
	}
	return nil
}

func (p *pop3Client) stat() (n int, err error) {
	s, err := p.cmd("STAT")
	if err != nil {
		return 0, err
	}
	f := strings.Fields(s)
	if len(f) < 1 {
		return 0, fmt.Errorf("STAT: %q", s)
	}
	return strconv.Atoi(f[0])
}

// POP3Result is one round: a session on the large maildrop (login+STAT,
// UIDL) and one on the small one (login+STAT, RETR of every message).
type POP3Result struct {
	LoginStatS    float64 `json:"login_stat_s"` // connect, STLS if any, USER, PASS, STAT (large maildrop)
	UIDLMessages  int     `json:"uidl_messages"`
	UIDLS         float64 `json:"uidl_s"`
	LoginStatSmlS float64 `json:"login_stat_small_s"` // the same on the small maildrop
	RetrMessages  int     `json:"retr_messages"`
	RetrBytes     int64   `json:"retr_bytes"`
	RetrS         float64 `json:"retr_s"` // RETR 1..n, one after the other on one connection
}

// POP3Round runs one POP3 round: UIDL on bigUser's maildrop, then RETR of
// every message of smallUser's, one RETR at a time (no pipelining), then
// QUIT. step is called as in Static.
func POP3Round(c Conn, bigUser, smallUser string, step func(string)) (*POP3Result, error) {
	if step == nil {
		step = func(string) {}
	}
	res := &POP3Result{}
	var p *pop3Client
	var n int
	session := func(user string, d *float64) error {
		return timed(d, func() error {
			var err error
			if p, err = dialPOP3(c); err != nil {
				return err
			}
			if err = p.login(user, c.Password); err != nil {
				p.close()
				return err
			}
			n, err = p.stat()
			if err != nil {
				p.close()
			}
			return err
		})
	}

	step("pop3_login_stat")
	err := session(bigUser, &res.LoginStatS)
	step("")
	if err != nil {
		return nil, fmt.Errorf("POP3 %s: %w", bigUser, err)
	}
	step("pop3_uidl")
	err = timed(&res.UIDLS, func() error {
		if _, err := p.cmd("UIDL"); err != nil {
			return err
		}
		lines, _, err := p.multi(io.Discard)
		res.UIDLMessages = lines
		return err
	})
	step("")
	if err != nil {
		p.close()
		return nil, fmt.Errorf("POP3 UIDL: %w", err)
	}
	_, _ = p.cmd("QUIT")
	p.close()

	step("pop3_login_stat_small")
	err = session(smallUser, &res.LoginStatSmlS)
	step("")
	if err != nil {
		return nil, fmt.Errorf("POP3 %s: %w", smallUser, err)
	}
	step("pop3_retr")
	err = timed(&res.RetrS, func() error {
		for i := 1; i <= n; i++ {
			if _, err := p.cmd("RETR %d", i); err != nil {
				return fmt.Errorf("RETR %d: %w", i, err)
			}
			_, octets, err := p.multi(io.Discard)
			if err != nil {
				return fmt.Errorf("RETR %d: %w", i, err)
			}
			res.RetrMessages++
			res.RetrBytes += octets
		}
		return nil
	})
	step("")
	if err != nil {
		p.close()
		return nil, err
	}
	_, err = p.cmd("QUIT")
	p.close()
	if err != nil {
		return nil, fmt.Errorf("POP3 QUIT: %w", err)
	}
	return res, nil
}
