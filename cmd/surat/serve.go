package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// shutdownBudget is the whole of a graceful stop; CONTRACT.md allows 10 s.
const shutdownBudget = 9 * time.Second

func runServeCommand(ctx context.Context, e *env, args []string) error {
	cfg, err := parseServe(args, e.getenv)
	if errors.Is(err, errHelp) {
		printUsage(e.stdout, newServeFlags().fs, serveSynopsis)
		return errHelp
	}
	if err != nil {
		return err
	}
	return serve(ctx, cfg, newLogger(e.stderr, cfg.LogFormat, cfg.LogLevel, cfg.ID))
}

// serve runs a node until ctx ends (SIGTERM/SIGINT), then stops it in
// order: the admin API (no new writes), the cluster node (hands leadership
// over, leaves membership intact), the store.
func serve(ctx context.Context, cfg *serveConfig, logger *slog.Logger) (err error) {
	// Layout of --data: raft/ (cluster), state/ (mailbox), tls/ (tlsconf).
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("serve: create --data: %w", err)
	}
	var tlsConfig *tls.Config
	if cfg.operatorCert != nil {
		tlsConfig = tlsconf.Config(*cfg.operatorCert)
	} else if tlsConfig, err = tlsconf.Server(tlsconf.Options{DataDir: cfg.Data, Hostnames: cfg.Domains}); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	_ = tlsConfig // handed to the SMTP/IMAP/POP3 listeners once they land

	store, err := openStore(filepath.Join(cfg.Data, "state"), logger)
	if err != nil {
		return fmt.Errorf("serve: open store: %w", err)
	}
	defer func() {
		if cerr := store.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("serve: close store: %w", cerr)
		}
	}()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	// Bind the admin port before starting the cluster, so a port clash is
	// reported before this node joins anything.
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return fmt.Errorf("serve: listen --http: %w", err)
	}
	defer ln.Close()

	node, err := cluster.Start(ctx, cluster.Config{
		NodeID:          cfg.ID,
		DataDir:         filepath.Join(cfg.Data, "raft"),
		RaftAddr:        cfg.Raft,
		GossipAddr:      cfg.Gossip,
		Join:            cfg.Join,
		BootstrapExpect: cfg.BootstrapExpect,
		Key:             cfg.ClusterKey,
		StateMachine:    store,
		Logger:          logger,
		Registerer:      reg,
	})
	if err != nil {
		return fmt.Errorf("serve: start cluster: %w", err)
	}
	nodeStopped := false
	defer func() {
		if !nodeStopped {
			sctx, cancel := context.WithTimeout(context.Background(), shutdownBudget)
			defer cancel()
			_ = node.Shutdown(sctx)
		}
	}()

	api, err := admin.New(admin.Config{
		Directory:    store,
		Digester:     store,
		Cluster:      node,
		IsNotFound:   isNotFound,
		Token:        cfg.AdminToken,
		LocalDomains: cfg.Domains,
		Gatherer:     reg,
		Registerer:   reg,
		Logger:       logger,
	})
	if err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	srv := &http.Server{
		Handler:           api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	logger.Info("serving", "http", cfg.HTTP, "raft", cfg.Raft, "gossip", cfg.Gossip,
		"domains", cfg.Domains, "resolver", cfg.ResolverSpec, "cluster_key", cfg.ClusterKey != nil)

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-served:
		runErr = fmt.Errorf("serve: admin API: %w", err)
	}

	deadline := time.Now().Add(shutdownBudget)
	hctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	if err := srv.Shutdown(hctx); err != nil {
		srv.Close() // in-flight requests waiting on the cluster are cut off
	}
	cancel()
	nctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	nodeStopped = true
	if err := node.Shutdown(nctx); err != nil && runErr == nil {
		logger.Warn("cluster shutdown", "err", err)
	}
	logger.Info("stopped")
	return runErr
}
