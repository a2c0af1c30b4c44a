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
	"github.com/surat-mail/surat/protocols/imap"
	"github.com/surat-mail/surat/protocols/login"
)

// imapServer is the running IMAP server (one for both listeners).
type imapServer struct {
	srv *imap.Server
	wg  sync.WaitGroup
}

// startIMAP serves --imap (STARTTLS) and --imaps (implicit TLS), sharing
// the node's logins (limiter and verified-credentials cache) with SMTP AUTH.
func startIMAP(cfg *serveConfig, m *tlsListenerPair, tlsConfig *tls.Config, store *mailbox.Store,
	node *cluster.Node, lg *login.Authenticator, logger *slog.Logger) (*imapServer, error) {
	if m.plain == nil && m.implicit == nil {
		return nil, nil
	}
	appendLimit := uint32(0)
	if cfg.MaxMessageSize > 0 && cfg.MaxMessageSize < 1<<32 {
		appendLimit = uint32(cfg.MaxMessageSize)
	}
	srv, err := imap.New(imap.Config{
		Hostname:    cfg.Hostname,
		TLS:         tlsConfig,
		Store:       store,
		Proposer:    node,
		Logger:      logger,
		AppendLimit: appendLimit,
		Login:       lg,

		MaxMailboxes:    noLimitIfZero(cfg.MaxMailboxes),
		MaxMailboxDepth: noLimitIfZero(cfg.MaxMailboxDepth),
		SpamLearner:     spamLearner(cfg, store, node, logger),
	})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	out := &imapServer{srv: srv}
	for _, l := range []struct {
		name string
		ln   net.Listener
		run  func(net.Listener) error
	}{{"imap", m.plain, srv.Serve}, {"imaps", m.implicit, srv.ServeTLS}} {
		if l.ln == nil {
			continue
		}
		out.wg.Add(1)
		go func() {
			defer out.wg.Done()
			if err := l.run(l.ln); err != nil {
				logger.Error("imap listener stopped", "listener", l.name, "err", err)
			}
		}()
		logger.Info("imap listening", "listener", l.name, "listen", l.ln.Addr().String())
	}
	return out, nil
}

// shutdown says BYE to every session, waits up to grace, then cuts the
// rest off.
func (s *imapServer) shutdown(grace time.Duration) {
	if s == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
	s.wg.Wait()
}

// noLimitIfZero turns a flag's 0 ("no limit") into the negative value the
// protocol packages read as no limit (their 0 means their default).
func noLimitIfZero[T int | int64](v T) T {
	if v == 0 {
		return -1
	}
	return v
}
