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
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/bans"
	"github.com/surat-mail/surat/protocols/dkimsign"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/login"
	"github.com/surat-mail/surat/protocols/outbound/mtasts"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
	"github.com/surat-mail/surat/protocols/smtp"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// shutdownBudget is the whole of a graceful stop; docs/OPERATING.md promises 10 s.
const shutdownBudget = 9 * time.Second

// exitStorageFull is the exit status after the store failed on a full
// disk: EX_TEMPFAIL (sysexits.h), a temporary failure; systemd's
// Restart=on-failure (deploy/systemd) restarts the node.
const exitStorageFull = 75

// exitStorageFailure is the exit status after the store failed on any
// other I/O error: EX_IOERR (sysexits.h). The node cannot trust its disk;
// an operator looks at the disk and the log before restarting it (README,
// "Operating it").
const exitStorageFailure = 74

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
// order: the mail listeners and the admin API (no new writes), the cluster
// node (hands leadership over, leaves membership intact), the store.
func serve(ctx context.Context, cfg *serveConfig, logger *slog.Logger) (err error) {
	// Layout of --data: raft/ (cluster), state/ (mailbox), tls/ (tlsconf).
	if err := os.MkdirAll(cfg.Data, 0o750); err != nil {
		return fmt.Errorf("serve: create --data: %w", err)
	}
	var tlsConfig *tls.Config
	if cfg.operatorCert != nil {
		tlsConfig = tlsconf.Config(*cfg.operatorCert)
	} else if tlsConfig, err = tlsconf.Server(tlsconf.Options{DataDir: cfg.Data,
		Hostnames: append(append([]string{cfg.Hostname}, cfg.Domains...), cfg.HTTPNames...), IPs: adminIPs(cfg)}); err != nil {
		return fmt.Errorf("serve: %w", err)
	}

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
	if c, ok := cfg.Resolver.(*dns.Client); ok {
		if err := c.Register(reg); err != nil {
			return fmt.Errorf("serve: %w", err)
		}
	}

	// Bind the admin port before starting the cluster, so a port clash is
	// reported before this node joins anything.
	ln, err := net.Listen("tcp", cfg.HTTP)
	if err != nil {
		return fmt.Errorf("serve: listen --http: %w", err)
	}
	defer ln.Close()
	mailListeners, err := listenMail(cfg)
	if err != nil {
		return err
	}
	defer mailListeners.close()
	imapLns, err := listenPair("imap", cfg.IMAP, "imaps", cfg.IMAPS)
	if err != nil {
		return err
	}
	defer imapLns.close()
	pop3Lns, err := listenPair("pop3", cfg.POP3, "pop3s", cfg.POP3S)
	if err != nil {
		return err
	}
	defer pop3Lns.close()
	sieveLn, err := listenManageSieve(cfg)
	if err != nil {
		return err
	}
	if sieveLn != nil {
		defer sieveLn.Close()
	}

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

		HeartbeatTimeout:   cfg.RaftHeartbeat,
		ElectionTimeout:    cfg.RaftElection,
		LeaderLeaseTimeout: cfg.RaftLease,
		SnapshotThreshold:  cfg.SnapshotThreshold,
		SnapshotInterval:   cfg.SnapshotInterval,
		TrailingLogs:       cfg.TrailingLogs,

		MinFreeBytes: cfg.MinFreeSpace,
		StoragePaths: []string{filepath.Join(cfg.Data, "state")},
		OnStorageFull: func(err error) {
			// The store cannot go on in this process (cluster/diskguard.go):
			// exit, without the graceful stop that would wait on it, so that
			// the supervisor restarts the node; the restart replays the log.
			logger.Error("disk full: exiting; free space on --data and the node catches up after its restart",
				"dir", cfg.Data, "exit_code", exitStorageFull, "err", err)
			os.Exit(exitStorageFull)
		},
		OnStorageFailure: func(err error) {
			// Not a mail problem (those are refused, deterministically, on
			// every node): the store's reads or writes fail. Exit rather
			// than apply past an entry this node could not record.
			logger.Error("storage I/O error: exiting; check the disk and the kernel log, then restart the node (it replays the log from its applied index), or replace its --data from a peer",
				"dir", cfg.Data, "exit_code", exitStorageFailure, "err", err)
			os.Exit(exitStorageFailure)
		},
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

	sieveState, err := newSieveStore(store, node)
	if err != nil {
		return err
	}
	api, err := admin.New(admin.Config{
		Sieve:        sieveState,
		CheckSieve:   sieve.Check,
		ACLs:         store,
		Directory:    store,
		Queue:        store,
		Bans:         store,
		Reports:      store,
		Spam:         spamModels{store},
		Digester:     store,
		Cluster:      node,
		IsNotFound:   isNotFound,
		Token:        cfg.AdminToken,
		LocalDomains: cfg.Domains,
		Domains:      store,
		Hostname:     cfg.Hostname,
		Resolver:     checkResolver(cfg.Resolver),
		// Our MTA-STS policies (RFC 8461 §3.3) for the domains whose
		// settings turn them on; the policy's one mx is --hostname.
		MTASTS:     &mtasts.Handler{Source: domainPolicies{store}, MX: func() []string { return []string{cfg.Hostname} }},
		Hosts:      adminHosts(cfg),
		Gatherer:   reg,
		Registerer: reg,
		Logger:     logger,
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
	go func() { served <- serveAdmin(srv, ln, cfg.HTTP, tlsConfig) }()
	// Outbound queue: the worker runs on every node and works only while
	// its node leads; submission queues through its Relay.
	// DKIM keys (protocols/dkimsign), cached per node, sign submitted mail
	// and DSNs.
	dkimKeys := dkimsign.NewKeys(store)
	defer dkimKeys.Close()
	queue, err := startOutbound(cfg, store, node, dkimKeys, reg, logger)
	if err != nil {
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	defer queue.stop()
	autoBan, err := startAutoBan(cfg.AutoBan, store, node, reg, logger)
	if err != nil {
		srv.Close()
		return err
	}
	if autoBan != nil {
		defer autoBan.Close()
	}
	lg, err := newLogins(cfg, store, node, reg, autoBan)
	if err != nil {
		srv.Close()
		return err
	}
	if err := gateBans(store, mailListeners, imapLns, pop3Lns, &sieveLn, reg, logger); err != nil {
		srv.Close()
		return err
	}
	pruner := startBanPruner(store, node, logger)
	defer pruner.stop()
	spamPruner := startSpamModelPruner(store, node, logger)
	defer spamPruner.stop()
	seeder := startDomainSeeder(cfg.Domains, store, node, logger)
	defer seeder.stop()
	sievePruner, srsSeeder := startSieveLeaderJobs(store, node, logger)
	defer sievePruner.stop()
	defer srsSeeder.stop()
	reportSender, err := startReports(cfg, store, node, queue.relay.Wake, dkimKeys.Sign, logger)
	if err != nil {
		srv.Close()
		return err
	}
	defer reportSender.stop()
	grey, err := startGreylist(cfg, store, node, logger)
	if err != nil {
		srv.Close()
		return err
	}
	defer grey.stop()
	checks, err := messageChecks(cfg, store, dkimKeys, grey.check, logger)
	if err == nil {
		err = registerCheckMetrics(checks, reg) // before countChecks wraps them
	}
	var counted *pipeline.Metrics
	if err == nil {
		counted, err = countChecks(checks, reg)
	}
	if err != nil {
		srv.Close()
		return err
	}
	smtpServers, err := startSMTP(cfg, mailListeners, tlsConfig, store, node, queue.relay, lg, checks, counted, logger)
	if err != nil {
		srv.Close()
		return err
	}
	// IMAP: after the cluster, sharing the node's logins with SMTP.
	imapSrv, err := startIMAP(cfg, imapLns, tlsConfig, store, node, lg, logger)
	if err != nil {
		smtpServers.shutdown(time.Second)
		srv.Close()
		return err
	}
	// POP3: after the cluster, sharing the node's logins with SMTP.
	pop3Srv, err := startPOP3(cfg, pop3Lns, tlsConfig, store, node, lg, logger)
	if err != nil {
		imapSrv.shutdown(time.Second)
		smtpServers.shutdown(time.Second)
		srv.Close()
		return err
	}
	// ManageSieve: after the cluster, sharing the node's logins.
	sieveSrv, err := startManageSieve(cfg, sieveLn, tlsConfig, newManageSieveParts(store, sieveState), lg, logger)
	if err != nil {
		pop3Srv.shutdown(time.Second)
		imapSrv.shutdown(time.Second)
		smtpServers.shutdown(time.Second)
		srv.Close()
		return err
	}
	if err := frontEndSessions(smtpServers, imapSrv, pop3Srv, sieveSrv).register(reg); err != nil {
		sieveSrv.shutdown(time.Second)
		pop3Srv.shutdown(time.Second)
		imapSrv.shutdown(time.Second)
		smtpServers.shutdown(time.Second)
		srv.Close()
		return fmt.Errorf("serve: %w", err)
	}
	logger.Info("serving", "hostname", cfg.Hostname, "http", cfg.HTTP, "http_tls", !isLoopback(cfg.HTTP), "raft", cfg.Raft, "gossip", cfg.Gossip,
		"domains", cfg.Domains, "resolver", cfg.ResolverSpec, "cluster_key", cfg.ClusterKey != nil)

	var runErr error
	select {
	case <-ctx.Done():
		logger.Info("shutting down", "cause", context.Cause(ctx))
	case err := <-served:
		runErr = fmt.Errorf("serve: admin API: %w", err)
	}

	deadline := time.Now().Add(shutdownBudget)
	// Mail listeners first: no new deliveries while the cluster can still
	// commit the ones in flight.
	smtpServers.shutdown(2 * time.Second)
	queue.stop() // attempts in flight are cut off; the next leader retries them
	imapSrv.shutdown(time.Second)
	pop3Srv.shutdown(time.Second) // a QUIT in flight gets its commit or no +OK
	sieveSrv.shutdown(time.Second)
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

// mailListeners are the mail ports, bound before the cluster starts so that
// a port clash is reported before this node joins anything.
type mailListeners struct {
	smtp, submission, submissions net.Listener
}

func listenMail(cfg *serveConfig) (*mailListeners, error) {
	m := &mailListeners{}
	for _, l := range []struct {
		flag, addr string
		dst        *net.Listener
	}{
		{"smtp", cfg.SMTP, &m.smtp}, {"submission", cfg.Submission, &m.submission},
		{"submissions", cfg.Submissions, &m.submissions},
	} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("serve: listen --%s: %w", l.flag, err)
		}
		*l.dst = ln
	}
	return m, nil
}

func (m *mailListeners) close() {
	for _, ln := range []net.Listener{m.smtp, m.submission, m.submissions} {
		if ln != nil {
			ln.Close()
		}
	}
}

// smtpServers are the running SMTP listeners.
type smtpServers struct {
	servers []*smtp.Server
	wg      sync.WaitGroup
}

// Verified credentials are remembered for loginCacheTTL, up to
// loginCacheSize of them.
const (
	loginCacheTTL  = 15 * time.Minute
	loginCacheSize = 100_000
)

// newLogins is the node's one login path (protocols/login), shared by SMTP
// AUTH, IMAP and POP3: one failure limiter, one cache of recently verified
// credentials (protocols/auth.Cache), one bound on concurrent password
// verifications, and the catch-up check before any answer.
func newLogins(cfg *serveConfig, store *mailbox.Store, node *cluster.Node, reg prometheus.Registerer, autoBan *bans.AutoBanner) (*login.Authenticator, error) {
	cache, err := auth.NewCache(loginCacheSize, loginCacheTTL)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	lc := login.Config{Directory: store, Bans: store, CaughtUp: node.CaughtUp, ReadBarrier: node.ReadBarrier,
		Cache: cache, MaxVerifying: cfg.AuthConcurrency, Registerer: reg}
	if autoBan != nil {
		lc.OnLockout = autoBan.Locked // --auto-ban
	}
	a, err := login.New(lc)
	if err != nil {
		return nil, fmt.Errorf("serve: %w", err)
	}
	return a, nil
}

// startSMTP serves MX, submission and submissions on the bound listeners.
func startSMTP(cfg *serveConfig, m *mailListeners, tlsConfig *tls.Config, store *mailbox.Store,
	node *cluster.Node, relay smtp.Relay, lg *login.Authenticator, checks map[smtp.Kind][]pipeline.Check, counted *pipeline.Metrics,
	logger *slog.Logger) (*smtpServers, error) {
	out := &smtpServers{}
	conn, err := connChecks(cfg, counted, logger)
	if err != nil {
		return nil, err
	}
	for _, l := range []struct {
		kind smtp.Kind
		ln   net.Listener
	}{
		{smtp.MX, m.smtp}, {smtp.Submission, m.submission}, {smtp.Submissions, m.submissions},
	} {
		if l.ln == nil {
			continue
		}
		srv, err := smtp.New(smtp.Config{
			Kind:           l.kind,
			Hostname:       cfg.Hostname,
			TLS:            tlsConfig,
			Directory:      store,
			Proposer:       node,
			IsNotFound:     func(err error) bool { return errors.Is(err, mailbox.ErrNotFound) },
			ReadBarrier:    node.ReadBarrier,
			StorageLow:     node.StorageLow,
			LocalDomains:   cfg.Domains,
			Logger:         logger,
			MaxMessageSize: cfg.MaxMessageSize,
			Login:          lg,
			Relay:          relay,
			Checks:         checks[l.kind],
			ConnChecks:     conn,

			// serve's 0 ("no limit") is the package's negative.
			MaxSendPerHour:        noLimitIfZero(cfg.MaxSendPerHour),
			MaxQueuedBytesPerUser: noLimitIfZero(cfg.MaxQueuedBytesPerUser),
			Postmaster:            cfg.Postmaster,
			SRS:                   newClusterSRS(store, cfg),
			// fileinto :create obeys IMAP CREATE's limits.
			MaxMailboxes:    noLimitIfZero(cfg.MaxMailboxes),
			MaxMailboxDepth: noLimitIfZero(cfg.MaxMailboxDepth),
		})
		if err != nil {
			out.shutdown(time.Second)
			return nil, fmt.Errorf("serve: %w", err)
		}
		out.servers = append(out.servers, srv)
		out.wg.Add(1)
		go func(ln net.Listener, kind smtp.Kind) {
			defer out.wg.Done()
			if err := srv.Serve(ln); err != nil {
				logger.Error("smtp listener stopped", "listener", kind.String(), "err", err)
			}
		}(l.ln, l.kind)
		logger.Info("smtp listening", "listener", l.kind.String(), "listen", l.ln.Addr().String())
	}
	return out, nil
}

// shutdown stops the listeners, lets sessions finish for up to grace, then
// cuts the rest off (an unanswered DATA is retried by its client).
func (s *smtpServers) shutdown(grace time.Duration) {
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

// serveAdmin serves the admin API on ln: over TLS (the mail listeners'
// certificate) unless addr is a loopback address, since the token and
// the passwords that user add sends must not cross a network in clear.
func serveAdmin(srv *http.Server, ln net.Listener, addr string, tlsConfig *tls.Config) error {
	if isLoopback(addr) {
		return srv.Serve(ln)
	}
	srv.TLSConfig = tlsConfig.Clone()
	return srv.ServeTLS(ln, "", "")
}

// adminHosts are the names the admin API answers to in the Host header
// besides IP addresses and localhost: the node's --hostname, the --http
// host when it is a name, and --http-names.
func adminHosts(cfg *serveConfig) []string {
	hosts := append([]string{cfg.Hostname}, cfg.HTTPNames...)
	if h, _, err := net.SplitHostPort(cfg.HTTP); err == nil && h != "" && net.ParseIP(h) == nil {
		hosts = append(hosts, h)
	}
	return hosts
}

// adminIPs is the --http address when it is a concrete IP off loopback:
// the self-signed certificate names it, so that `--server https://IP:PORT
// --ca-file DATA/tls/cert.pem` verifies.
func adminIPs(cfg *serveConfig) []net.IP {
	h, _, err := net.SplitHostPort(cfg.HTTP)
	if err != nil {
		return nil
	}
	ip := net.ParseIP(h)
	if ip == nil || ip.IsLoopback() || ip.IsUnspecified() {
		return nil
	}
	return []net.IP{ip}
}
