package faults

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// scriptedSession answers by recipient: it stands in for a node that
// acknowledges, fails temporarily or permanently, or dies after DATA, so
// that the load generator's reading of each case can be checked over a
// real SMTP conversation.
type scriptedSession struct {
	conn  *smtp.Conn
	rcpts []string
}

func (s *scriptedSession) Reset()                               { s.rcpts = nil }
func (s *scriptedSession) Logout() error                        { return nil }
func (s *scriptedSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *scriptedSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	if strings.HasPrefix(to, "nouser@") {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user here"}
	}
	if strings.HasPrefix(to, "busy@") {
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *scriptedSession) Data(r io.Reader) error {
	if _, err := io.Copy(io.Discard, r); err != nil {
		return err
	}
	switch {
	case strings.HasPrefix(s.rcpts[0], "temp@"):
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "no quorum"}
	case strings.HasPrefix(s.rcpts[0], "perm@"):
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 0, 0}, Message: "broken"}
	case strings.HasPrefix(s.rcpts[0], "drop@"):
		// The whole message arrived; the node dies before answering.
		return s.conn.Conn().Close()
	}
	return nil
}

func TestSMTPLoadOutcomes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &scriptedSession{conn: c}, nil
	}))
	srv.Domain = "scripted.test"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { srv.Close() })

	tests := []struct {
		rcpt        string
		want        Outcome
		wantCode    int
		wantProblem bool
	}{
		{"ok@x.test", Acked, 250, false},
		{"temp@x.test", TempFailed, 451, false},
		{"perm@x.test", PermFailed, 554, true},
		{"drop@x.test", Unknown, 0, false},
		{"nouser@x.test", Refused, 550, true},
		{"busy@x.test", Refused, 451, false},
	}
	for round, tt := range tests {
		t.Run(tt.rcpt, func(t *testing.T) {
			ledger := NewLedger()
			load := &SMTPLoad{
				Targets:    func() []Target { return []Target{{Node: "scripted", Addr: ln.Addr().String()}} },
				Recipients: []string{tt.rcpt}, Senders: 2, PerConnection: 3,
				Ledger: ledger, Round: round, RunID: "t",
			}
			ctx, cancel := context.WithTimeout(t.Context(), 300*time.Millisecond)
			defer cancel()
			load.Run(ctx)
			msgs := ledger.Messages()
			if len(msgs) == 0 {
				t.Fatal("no attempt recorded")
			}
			for _, m := range msgs {
				if m.Outcome != tt.want || m.Code != tt.wantCode {
					t.Fatalf("%s: outcome %s code %d (%s at %s), want %s code %d", m.MessageID, m.Outcome, m.Code, m.Reply, m.Stage, tt.want, tt.wantCode)
				}
			}
			c := ledger.Counts(round)
			if total := c.Acked + c.TempFailed + c.PermFailed + c.Unknown + c.Refused; total != len(msgs) {
				t.Errorf("counts %s add up to %d, want %d", c, total, len(msgs))
			}
			if got := len(ledger.Problems(round)) > 0; got != tt.wantProblem {
				t.Errorf("problems %q, want some: %v", ledger.Problems(round), tt.wantProblem)
			}
		})
	}
}
