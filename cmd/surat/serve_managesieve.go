package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/managesieve"
	"github.com/surat-mail/surat/protocols/sieve"
)

// listenManageSieve binds --managesieve before the cluster starts, so that
// a port clash is reported before this node joins anything; nil when the
// flag is not set.
func listenManageSieve(cfg *serveConfig) (net.Listener, error) {
	if cfg.ManageSieve == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", cfg.ManageSieve)
	if err != nil {
		return nil, fmt.Errorf("serve: listen --managesieve: %w", err)
	}
	return ln, nil
}

// manageSieveParts are what the ManageSieve listener takes from the rest
// of the node: the replicated scripts (protocols/sievestore) and the Sieve
// compiler (protocols/sieve) that PUTSCRIPT and CHECKSCRIPT validate with,
// and whose extensions the SIEVE capability lists.
type manageSieveParts struct {
	scripts      managesieve.Scripts
	check        func(src []byte) error
	extensions   []string
	maxRedirects int
	limits       managesieve.Limits
	feed         managesieve.Feed // revocation of sessions whose password changed
}

// newManageSieveParts builds the listener's parts: scripts is the node's
// replicated Sieve state (protocols/sievestore, the admin API's too).
func newManageSieveParts(store *mailbox.Store, scripts managesieve.Scripts) manageSieveParts {
	return manageSieveParts{
		scripts:      scripts,
		check:        sieve.Check, // as the admin API and `surat sieve check`
		extensions:   sieve.Extensions(),
		maxRedirects: sieve.DefaultLimits().MaxRedirects,
		feed:         store,
	}
}

// manageSieveServer is the running ManageSieve listener.
type manageSieveServer struct {
	srv  *managesieve.Server
	done chan struct{}
}

// startManageSieve serves ManageSieve on ln (nil: off), with STARTTLS on
// the node's certificate (as IMAP's and POP3's) and the node's one login
// path.
func startManageSieve(cfg *serveConfig, ln net.Listener, tlsConfig *tls.Config, parts manageSieveParts,
	lg *login.Authenticator, logger *slog.Logger) (*manageSieveServer, error) {
	if ln == nil {
		return nil, nil
	}
	srv, err := managesieve.New(managesieve.Config{
		Hostname:     cfg.Hostname,
		TLS:          tlsConfig,
		Login:        lg,
		Scripts:      parts.scripts,
		Check:        parts.check,
		Extensions:   parts.extensions,
		MaxRedirects: parts.maxRedirects,
		Limits:       parts.limits,
		Feed:         parts.feed,
		Logger:       logger,
	})
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	m := &manageSieveServer{srv: srv, done: make(chan struct{})}
	go func() {
		defer close(m.done)
		if err := srv.Serve(ln); err != nil {
			logger.Error("managesieve listener stopped", "listener", "managesieve", "err", err)
		}
	}()
	logger.Info("managesieve listening", "listener", "managesieve", "listen", ln.Addr().String())
	return m, nil
}

// shutdown stops the listener and lets a write in flight (a PUTSCRIPT's
// commit) finish for up to grace; a write cut off was not answered OK.
func (m *manageSieveServer) shutdown(grace time.Duration) {
	if m == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	_ = m.srv.Shutdown(ctx)
	<-m.done
}
