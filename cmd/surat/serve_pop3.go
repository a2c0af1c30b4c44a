package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/pop3"
)

// pop3Servers are the running POP3 servers (one per listener: the
// implicit-TLS one offers no STLS).
type pop3Servers struct {
	servers []*pop3.Server
	names   []string // each server's listener: pop3, pop3s
	wg      sync.WaitGroup
}

// startPOP3 serves the bound POP3 listeners, sharing the node's logins
// with SMTP AUTH and IMAP.
func startPOP3(cfg *serveConfig, m *tlsListenerPair, tlsConfig *tls.Config, store *mailbox.Store,
	node *cluster.Node, lg *login.Authenticator, logger *slog.Logger) (*pop3Servers, error) {
	out := &pop3Servers{}
	for _, l := range []struct {
		name     string
		ln       net.Listener
		implicit bool
	}{{"pop3", m.plain, false}, {"pop3s", m.implicit, true}} {
		if l.ln == nil {
			continue
		}
		srv, err := pop3.New(pop3.Config{
			Hostname:    cfg.Hostname,
			TLS:         tlsConfig,
			ImplicitTLS: l.implicit,
			Store:       store,
			Proposer:    node,
			IsNotFound:  isNotFound,
			Logger:      logger,
			Login:       lg,
			Feed:        store,
		})
		if err != nil {
			out.shutdown(time.Second)
			return nil, fmt.Errorf("serve: %w", err)
		}
		out.servers = append(out.servers, srv)
		out.names = append(out.names, l.name)
		out.wg.Add(1)
		go func() {
			defer out.wg.Done()
			if err := srv.Serve(l.ln); err != nil {
				logger.Error("pop3 listener stopped", "listener", l.name, "err", err)
			}
		}()
		logger.Info("pop3 listening", "listener", l.name, "listen", l.ln.Addr().String())
	}
	return out, nil
}

// shutdown stops the listeners, lets commands in flight (a QUIT's commit)
// finish for up to grace, then cuts the rest off. Idle sessions end at once:
// they never reached UPDATE, so they delete nothing.
func (s *pop3Servers) shutdown(grace time.Duration) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var wg sync.WaitGroup
	for _, srv := range s.servers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = srv.Shutdown(ctx)
		}()
	}
	wg.Wait()
	s.wg.Wait()
}
