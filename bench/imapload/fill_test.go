package imapload

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
)

// flakySession refuses every refuseEvery-th APPEND the server sees, as
// Surat does when a commit cannot be made.
type flakySession struct {
	imapserver.Session
	appends     *atomic.Int64
	refuseEvery int64
	code        imap.ResponseCode
}

func (s *flakySession) Append(mailbox string, r imap.LiteralReader, options *imap.AppendOptions) (*imap.AppendData, error) {
	if n := s.appends.Add(1); s.refuseEvery > 0 && n%s.refuseEvery == 0 {
		return nil, &imap.Error{Type: imap.StatusResponseTypeNo, Code: s.code, Text: "try again"}
	}
	return s.Session.Append(mailbox, r, options)
}

// startIMAP serves go-imap's in-memory backend on loopback with user u1.
func startIMAP(t *testing.T, refuseEvery int64, code imap.ResponseCode) (addr string, mem *imapmemserver.User) {
	t.Helper()
	backend := imapmemserver.New()
	mem = imapmemserver.NewUser("u1", "pass")
	if err := mem.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	backend.AddUser(mem)
	var appends atomic.Int64
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return &flakySession{Session: backend.NewSession(), appends: &appends, refuseEvery: refuseEvery, code: code}, nil, nil
		},
		Caps:         imap.CapSet{imap.CapIMAP4rev1: {}},
		InsecureAuth: true,
	})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String(), mem
}

// TestFillRetries: NO [UNAVAILABLE] is retried until the APPEND succeeds
// and counted; another NO is final.
func TestFillRetries(t *testing.T) {
	for _, tt := range []struct {
		name        string
		refuseEvery int64
		code        imap.ResponseCode
		wantErr     bool
		wantRetries int
	}{
		{name: "no failures", refuseEvery: 0, wantRetries: 0},
		// 40 messages: every 4th APPEND the server sees is refused, and
		// a retry follows its refusal at once (one connection), so the
		// 40 take 53 APPENDs, 13 of them refused.
		{name: "UNAVAILABLE retried", refuseEvery: 4, code: imap.ResponseCodeUnavailable, wantRetries: 13},
		{name: "other NO is final", refuseEvery: 4, code: imap.ResponseCodeOverQuota, wantErr: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr, mem := startIMAP(t, tt.refuseEvery, tt.code)
			res, err := Fill(context.Background(), FillConfig{
				Conns: []Conn{{Addr: addr, Password: "pass"}}, Users: []string{"u1"}, Messages: 40, Connections: 1,
			})
			if tt.wantErr {
				if err == nil {
					t.Fatalf("fill succeeded (%+v), want a final error", res)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Appended != 40 || res.Retries != tt.wantRetries {
				t.Fatalf("appended %d with %d retries (%v), want 40 with %d", res.Appended, res.Retries, res.RetryKinds, tt.wantRetries)
			}
			if tt.wantRetries > 0 && res.RetryKinds["NO [UNAVAILABLE]"] != tt.wantRetries {
				t.Errorf("retry kinds %v", res.RetryKinds)
			}
			st, err := mem.Status("INBOX", &imap.StatusOptions{NumMessages: true})
			if err != nil {
				t.Fatal(err)
			}
			if *st.NumMessages != 40 {
				t.Errorf("INBOX holds %d messages, want 40", *st.NumMessages)
			}
		})
	}
}
