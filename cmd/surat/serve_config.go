package main

import (
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/cluster"
	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/dns"
	"github.com/surat-mail/surat/protocols/imap"
	"github.com/surat-mail/surat/protocols/mailauth"
	"github.com/surat-mail/surat/protocols/outbound"
	"github.com/surat-mail/surat/protocols/smtp"
	"github.com/surat-mail/surat/protocols/spam/bayes"
	"github.com/surat-mail/surat/protocols/spam/clamd"
	"github.com/surat-mail/surat/protocols/spam/dnsbl"
	"github.com/surat-mail/surat/protocols/spam/rspamd"
	"github.com/surat-mail/surat/protocols/tlsconf"
)

// serveConfig is a validated `surat serve` command line. Listener addresses
// of protocols that are not served yet are kept here for when they are.
type serveConfig struct {
	ID              string
	Data            string
	Raft, Gossip    string
	Join            []string
	BootstrapExpect int
	Domains         []string
	Hostname        string // the node's public mail name: EHLO, Received, certificate

	SMTP, Submission, IMAP, POP3 string // "" = not served
	IMAPS, POP3S, Submissions    string // implicit TLS (RFC 8314), optional
	ManageSieve                  string // RFC 5804 (STARTTLS); "" = not served
	HTTP                         string
	HTTPNames                    []string // more names the admin API answers to (Host header)
	Smarthost                    string
	SmarthostTLS                 outbound.TLSMode
	SmarthostCA                  *x509.CertPool // nil: the system roots
	SmarthostAuth                *outbound.Credentials
	AllowPrivateMX               bool            // MX delivery may connect to loopback/private addresses
	MTASTS                       bool            // MX delivery honours MTA-STS policies (with a resolver)
	Postmaster                   string          // receives postmaster@ of every local domain without one
	SRSDomain                    string          // the domain of forwarded mail's SRS senders; empty: the first local domain
	QueueLifetime                time.Duration   // outbound retries before a bounce
	DelayWarning                 time.Duration   // one delay DSN after this long pending; 0: never
	ReportRetention              time.Duration   // DMARC and TLS-RPT results kept this long, sent or not
	QueueSchedule                []time.Duration // backoff between outbound attempts
	MaxMessageSize               int64
	MaxSendPerHour               int            // remote recipients per user and hour; 0: no limit
	MaxQueuedBytesPerUser        int64          // bytes per user in the outbound queue; 0: no limit
	MaxMailboxes                 int            // mailboxes per user; 0: no limit
	MaxMailboxDepth              int            // hierarchy levels of a mailbox name; 0: no limit
	AuthConcurrency              int            // password verifications at once (0: one per core)
	AutoBan                      *autoBanPolicy // --auto-ban; nil: off
	DNSBL                        []string       // --dnsbl zones; none: off
	Greylist                     time.Duration  // --greylist delay; 0: off
	ResolverSpec                 string
	Resolver                     dns.Resolver
	ResolverDNSSEC               bool // trust the --resolver's AD bit (DANE)
	SPFPolicy                    mailauth.SPFPolicy
	ARCTrustedSealers            []string      // ARC sealers whose passing chains may override DMARC
	SpamClassifier               bool          // the built-in classifier judges MX mail and learns from Junk moves
	SpamThreshold                float64       // its spam probability threshold
	RaftHeartbeat, RaftElection  time.Duration // Raft timeouts
	RaftLease                    time.Duration
	SnapshotThreshold            uint64        // Raft entries between snapshots
	SnapshotInterval             time.Duration // how often a snapshot is considered
	TrailingLogs                 uint64        // entries kept after a snapshot
	MinFreeSpace                 uint64        // bytes; below it the node refuses writes (0: off)
	TLSCert, TLSKey              string
	operatorCert                 *tls.Certificate // loaded while validating
	ClusterKeyFile               string
	ClusterKey                   []byte // nil: development key, loopback only
	AdminToken                   string
	LogLevel                     slog.Level
	LogFormat                    string
	configFile                   string

	// External scanners on the MX port (protocols/spam/clamd, rspamd).
	Clamd        *clamd.Client  // --clamd; nil: no virus scan
	ClamdAccept  bool           // --clamd-failure accept (default tempfail)
	Rspamd       *rspamd.Client // --rspamd; nil: rspamd not asked
	RspamdAccept bool           // --rspamd-failure accept (default tempfail)
}

// Defaults: a single node on loopback.
const (
	defaultRaft           = "127.0.0.1:7001"
	defaultGossip         = "127.0.0.1:7101"
	defaultHTTP           = "127.0.0.1:8080"
	defaultMaxMessageSize = 25 << 20 // 26214400 (docs/OPERATING.md)
	maxMaxMessageSize     = 1 << 30
	// defaultMinFreeSpace leaves Pebble room for a memtable flush, a new
	// WAL (it preallocates 110% of the 32 MiB memtable) and a compaction
	// below the half that the guard keeps in reserve.
	defaultMinFreeSpace = 256 << 20
	// minMinFreeSpace: a smaller non-zero threshold could not hold even
	// one Raft entry (4 MiB) in its reserve.
	minMinFreeSpace = 16 << 20
)

const serveSynopsis = `surat serve --id NAME --data DIR [flags]

Runs one node. Flags may also come from --config FILE: lines "name = value"
(flag names without dashes, '#' starts a comment); the command line wins.
Environment: SURAT_ADMIN_TOKEN (admin API bearer token; required when --http
is not loopback), SURAT_CLUSTER_KEY (base64 cluster key; required when Raft
or gossip leave loopback; see surat cluster keygen).`

// serveFlags binds a flag set to raw string values; validation is separate
// so that a config file can fill what the command line left unset.
type serveFlags struct {
	fs  *flag.FlagSet
	raw map[string]*string
}

var serveFlagDocs = []struct{ name, def, usage string }{
	{"config", "", "read flags from `FILE` (name = value lines); command-line flags override it"},
	{"id", "", "stable node `name`, unique in the cluster (required)"},
	{"data", "", "`DIR` for the Raft log, snapshots, the store and the TLS certificate (required)"},
	{"raft", defaultRaft, "`HOST:PORT` for node-to-node Raft traffic"},
	{"gossip", defaultGossip, "`HOST:PORT` for membership gossip (TCP and UDP)"},
	{"join", "", "gossip `ADDRS` of other nodes, comma separated"},
	{"bootstrap-expect", "0", "form a new cluster once `N` nodes see each other (first start only)"},
	{"domain", "", "local mail `DOMAINS`, comma separated"},
	{"hostname", "", "this node's public mail `NAME` (greeting, EHLO, Received, TLS certificate; default: the OS host name)"},
	{"smtp", "", "`HOST:PORT` for inbound mail (MX, no AUTH, STARTTLS)"},
	{"submission", "", "`HOST:PORT` for submission (STARTTLS, then AUTH)"},
	{"imap", "", "`HOST:PORT` for IMAP (STARTTLS)"},
	{"pop3", "", "`HOST:PORT` for POP3 (STLS)"},
	{"imaps", "", "`HOST:PORT` for IMAP over implicit TLS (RFC 8314)"},
	{"pop3s", "", "`HOST:PORT` for POP3 over implicit TLS (RFC 8314)"},
	{"submissions", "", "`HOST:PORT` for submission over implicit TLS (RFC 8314)"},
	{"managesieve", "", "`HOST:PORT` for ManageSieve (RFC 5804: users manage their Sieve scripts; STARTTLS, then AUTHENTICATE PLAIN; port 4190 in production)"},
	{"srs-domain", "", "local `DOMAIN` whose SRS addresses (SRS0=...@DOMAIN) become the envelope sender of mail forwarded by Sieve redirects and surat user forward, so SPF passes at the destination and bounces come back; default: the first --domain"},
	{"postmaster", "", "`EMAIL` (user or alias) that receives mail to postmaster@ of every local domain without such an address (RFC 5321 4.5.1); default postmaster@ the first --domain"},
	{"http", defaultHTTP, "`HOST:PORT` for the admin API, /metrics, /healthz and /readyz (HTTPS with the --tls-cert certificate unless on loopback)"},
	{"http-names", "", "more host `NAMES` the admin API may be addressed by, comma separated (besides IP addresses, localhost and --hostname; others are refused)"},
	{"smarthost", "", "relay all outbound mail to `HOST:PORT` instead of looking up MX"},
	{"smarthost-tls", "", "protection of the smarthost connection: `MODE` verify (STARTTLS required, certificate verified), starttls (required, not verified) or none (plaintext); default verify, or none for a loopback smarthost"},
	{"smarthost-ca", "", "PEM `FILE` of CA certificates to verify the smarthost with, instead of the system roots"},
	{"smarthost-auth", "", "`USER:PASSWORD` for AUTH PLAIN at the smarthost (visible in ps: prefer --smarthost-auth-file)"},
	{"mta-sts", "true", "honour recipient domains' MTA-STS policies (RFC 8461) on delivery by MX, fetched through --resolver: true or false"},
	{"allow-private-mx", "false", "let MX delivery connect to loopback, private and link-local addresses that DNS returns (off: such mail hosts are skipped, and a domain with only those bounces 5.4.4)"},
	{"smarthost-auth-file", "", "`FILE` whose first line is USER:PASSWORD for AUTH PLAIN at the smarthost"},
	{"queue-lifetime", "120h", "retry outbound mail for `DURATION` before bouncing it"},
	{"delay-warning", "4h", "tell the sender once when outbound mail is still undelivered after `DURATION` (RFC 3464 delayed DSN, if NOTIFY allows); 0: never"},
	{"report-retention", "168h", "keep DMARC and TLS-RPT results for `DURATION` (at least 48h): the leader sends each day's reports after it ends and prunes days older than this, sent or not"},
	{"queue-schedule", "1m,5m,15m,30m,1h,2h", "backoff between outbound attempts: `DURATIONS`, comma separated; the last repeats"},
	{"max-message-size", strconv.Itoa(defaultMaxMessageSize), "largest accepted message in `BYTES` (larger: 552)"},
	{"max-send-per-hour", strconv.Itoa(smtp.DefaultMaxSendPerHour), "remote recipients one user may queue per hour, counted cluster-wide (past it: 450 4.7.1); `N`, 0: no limit"},
	{"max-queued-bytes-per-user", strconv.Itoa(smtp.DefaultMaxQueuedBytesPerUser), "`BYTES` of one user's mail that may wait in the outbound queue (past it: 452 4.3.1); 0: no limit"},
	{"max-mailboxes", strconv.Itoa(imap.DefaultMaxMailboxes), "mailboxes one user may own (past it: NO [LIMIT]); `N`, 0: no limit"},
	{"max-mailbox-depth", strconv.Itoa(imap.DefaultMaxMailboxDepth), "hierarchy levels of a mailbox name (past it: NO [LIMIT]); `N`, 0: no limit"},
	{"auth-concurrency", "0", "verify at most `N` passwords at once, each ~19 MiB of memory (0: one per core); more logins wait briefly, then get a temporary failure"},
	{"auto-ban", "", "ban a client (IPv4 address, IPv6 /64) cluster-wide once it is locked out of logins `N,WINDOW,DURATION`: N times within WINDOW on one node, for DURATION, such as 10,10m,1h; default off"},
	{"auto-ban-exempt", "", "`CIDRS` never banned by --auto-ban, comma separated (loopback never is), such as a webmail or proxy in front of the node"},
	{"dnsbl", "", "DNS blocklist `ZONES` (RFC 5782), comma separated, such as zen.spamhaus.org: a listed client is refused on the MX port with 554 5.7.1 naming the zone; needs --resolver"},
	{"greylist", "0", "greylist unknown (client /24 or /64, sender, recipient) triples on the MX port for `DURATION` with 451 4.7.1, cluster-wide, such as 5m; 0: off"},
	{"raft-heartbeat-timeout", "200ms", "a follower without word from the leader for `DURATION` starts an election (LAN default; raise it on slow or lossy links)"},
	{"raft-election-timeout", "200ms", "a candidate without a quorum of votes for `DURATION` tries again"},
	{"raft-lease-timeout", "100ms", "a leader that has not reached a quorum for `DURATION` steps down (at most --raft-heartbeat-timeout)"},
	{"snapshot-threshold", "8192", "take a Raft snapshot (and compact the log) after `N` new entries"},
	{"snapshot-interval", "60s", "check for a snapshot to take every `DURATION`"},
	{"trailing-logs", "10240", "keep `N` entries in the Raft log after a snapshot, for followers that lag"},
	{"min-free-space", strconv.Itoa(defaultMinFreeSpace), "below `BYTES` free on --data, refuse new writes with a temporary error (SMTP 452 4.3.1) and hand leadership over; below half of it, also pause the Raft log and apply until space is freed; 0: off"},
	{"resolver", "none", "DNS for MX/SPF/DKIM/DMARC/PTR/TLSA: `none`, system, or a server HOST:PORT (UDP, TCP for long answers; answers cached per node within their TTL)"},
	{"spf-policy", "dmarc", "what an SPF fail alone does on the MX port: `POLICY` dmarc (only through the From domain's DMARC policy; without a DMARC record it is recorded), reject (550 5.7.23 unless DKIM passes for the From domain) or none (SPF not checked: an MX behind another relay)"},
	{"arc-trusted-sealers", "", "ARC sealer `DOMAINS` (d= of ARC-Seal), comma separated, whose passing chains may override a DMARC failure: mailing lists and forwarders you trust (RFC 8617)"},
	{"clamd", "", "scan every message arriving on the MX port with ClamAV's clamd at `ADDRESS` unix:PATH (its LocalSocket) or HOST:PORT (its TCPSocket): infected mail gets 554 5.7.1 after DATA and is stored nowhere; set clamd's StreamMaxLength at least --max-message-size; default off"},
	{"clamd-failure", "tempfail", "what a message gets when clamd cannot scan it (down, an error, a timeout, StreamMaxLength): `POLICY` tempfail (451 4.7.0: the sender retries) or accept (delivered with X-Virus-Scan: unavailable, a warning and surat_unscanned_deliveries_total)"},
	{"rspamd", "", "ask rspamd about every message arriving on the MX port: its normal worker's `URL` (http://127.0.0.1:11333); reject is 550 5.7.1, soft reject and greylist 451 4.7.1, add header and rewrite subject go to Junk; default off"},
	{"rspamd-failure", "tempfail", "what a message gets when rspamd cannot check it: `POLICY` tempfail (451 4.7.0) or accept (delivered with X-Spam-Scan: unavailable, a warning and surat_unscanned_deliveries_total)"},
	{"spam-classifier", "true", "judge mail arriving on the MX port with the built-in spam classifier (X-Spam-Status, Junk) and train it from users' moves into and out of Junk: true or false"},
	{"spam-threshold", strconv.FormatFloat(bayes.DefaultThreshold, 'f', -1, 64), "spam probability (`P`, between 0 and 1) at or above which the classifier files a message in Junk"},
	{"resolver-dnssec", "false", "the --resolver server validates DNSSEC and the path to it is trusted: believe its AD bit (needed for DANE); needs --resolver HOST:PORT"},
	{"tls-cert", "", "PEM certificate chain `FILE` (default: self-signed, kept in DIR/tls)"},
	{"tls-key", "", "PEM private key `FILE` for --tls-cert"},
	{"cluster-key-file", "", "`FILE` holding the base64 cluster key (or set SURAT_CLUSTER_KEY)"},
	{"log-level", "info", "`LEVEL`: debug, info, warn or error"},
	{"log-format", "text", "`FORMAT`: text or json"},
}

func newServeFlags() *serveFlags {
	f := &serveFlags{fs: newFlagSet("serve"), raw: map[string]*string{}}
	for _, d := range serveFlagDocs {
		f.raw[d.name] = f.fs.String(d.name, d.def, d.usage)
	}
	return f
}

// parseServe parses and validates a serve command line. It reads files
// (config, key, certificate) but writes nothing and creates nothing.
func parseServe(args []string, getenv func(string) string) (*serveConfig, error) {
	f := newServeFlags()
	positional, err := parseInterleaved(f.fs, args)
	if err != nil {
		return nil, err
	}
	if len(positional) > 0 {
		return nil, usagef("serve: unexpected argument %q (see surat serve --help)", positional[0])
	}
	if path := *f.raw["config"]; path != "" {
		set := map[string]bool{}
		f.fs.Visit(func(fl *flag.Flag) { set[fl.Name] = true })
		values, err := readConfigFile(path)
		if err != nil {
			return nil, usagef("serve: %v", err)
		}
		for _, kv := range values {
			if kv.name == "config" || f.fs.Lookup(kv.name) == nil {
				return nil, usagef("serve: %s:%d: unknown setting %q", path, kv.line, kv.name)
			}
			if set[kv.name] {
				continue // the command line overrides the file
			}
			if err := f.fs.Set(kv.name, kv.value); err != nil {
				return nil, usagef("serve: %s:%d: %v", path, kv.line, err)
			}
		}
	}
	return f.validate(getenv)
}

func (f *serveFlags) validate(getenv func(string) string) (*serveConfig, error) {
	v := func(name string) string { return strings.TrimSpace(*f.raw[name]) }
	c := &serveConfig{configFile: v("config"), AdminToken: getenv("SURAT_ADMIN_TOKEN")}
	bad := func(name, format string, args ...any) error {
		return usagef("serve: --%s %q: %s", name, v(name), fmt.Sprintf(format, args...))
	}

	c.ID = v("id")
	if c.ID == "" {
		return nil, usagef("serve: --id is required (a stable node name such as n1)")
	}
	if !validNodeID(c.ID) {
		return nil, bad("id", "use 1 to 64 letters, digits, '.', '_' or '-'")
	}
	c.Data = v("data")
	if c.Data == "" {
		return nil, usagef("serve: --data is required (the node's state directory)")
	}
	if err := checkDataDir(c.Data); err != nil {
		return nil, bad("data", "%v", err)
	}

	// Addresses: Raft and gossip are advertised to peers, so they need a
	// concrete host; listeners may bind all interfaces (":25").
	for _, a := range []struct {
		name       string
		dst        *string
		advertised bool
	}{
		{"raft", &c.Raft, true}, {"gossip", &c.Gossip, true}, {"http", &c.HTTP, false},
		{"smtp", &c.SMTP, false}, {"submission", &c.Submission, false}, {"imap", &c.IMAP, false},
		{"pop3", &c.POP3, false}, {"imaps", &c.IMAPS, false}, {"pop3s", &c.POP3S, false},
		{"submissions", &c.Submissions, false}, {"smarthost", &c.Smarthost, true},
		{"managesieve", &c.ManageSieve, false},
	} {
		s := v(a.name)
		if s == "" {
			if a.name == "raft" || a.name == "gossip" || a.name == "http" {
				return nil, usagef("serve: --%s must not be empty", a.name)
			}
			continue
		}
		if err := checkHostPort(s, a.advertised); err != nil {
			return nil, bad(a.name, "%v", err)
		}
		*a.dst = s
	}
	if err := checkDistinctListeners(c); err != nil {
		return nil, usagef("serve: %v", err)
	}
	for _, j := range splitList(v("join")) {
		if err := checkHostPort(j, true); err != nil {
			return nil, usagef("serve: --join: %q: %v", j, err)
		}
		c.Join = append(c.Join, j)
	}
	n, err := strconv.Atoi(v("bootstrap-expect"))
	if err != nil || n < 0 || n > 64 {
		return nil, bad("bootstrap-expect", "want a number of nodes from 0 to 64")
	}
	c.BootstrapExpect = n
	for _, d := range splitList(v("domain")) {
		d, err := address.Domain(d)
		if err != nil {
			return nil, usagef("serve: --domain: %v", err)
		}
		c.Domains = append(c.Domains, d)
	}
	for _, h := range splitList(v("http-names")) {
		h, err := address.Domain(h)
		if err != nil {
			return nil, usagef("serve: --http-names: %v", err)
		}
		c.HTTPNames = append(c.HTTPNames, h)
	}
	if c.Hostname, err = mailHostname(v("hostname"), os.Hostname); err != nil {
		return nil, usagef("serve: %v", err)
	}
	if d := v("srs-domain"); d != "" {
		if c.SRSDomain, err = address.Domain(d); err != nil {
			return nil, bad("srs-domain", "%v", err)
		}
	}
	if pm := v("postmaster"); pm != "" {
		a, err := address.Account(pm)
		if err != nil {
			return nil, bad("postmaster", "%v", err)
		}
		c.Postmaster = a.String()
	}
	size, err := strconv.ParseInt(v("max-message-size"), 10, 64)
	if err != nil || size < 1024 || size > maxMaxMessageSize {
		return nil, bad("max-message-size", "want a number of bytes from 1024 to %d", maxMaxMessageSize)
	}
	c.MaxMessageSize = size
	if c.MaxSendPerHour, err = strconv.Atoi(v("max-send-per-hour")); err != nil || c.MaxSendPerHour < 0 || c.MaxSendPerHour > 1<<30 {
		return nil, bad("max-send-per-hour", "want a number of recipients, 0 for no limit")
	}
	if c.MaxQueuedBytesPerUser, err = strconv.ParseInt(v("max-queued-bytes-per-user"), 10, 64); err != nil || c.MaxQueuedBytesPerUser < 0 ||
		(c.MaxQueuedBytesPerUser != 0 && c.MaxQueuedBytesPerUser < c.MaxMessageSize) {
		// Below the message size a largest message could never be queued.
		return nil, bad("max-queued-bytes-per-user", "want 0 (no limit) or a number of bytes of at least --max-message-size (%d)", c.MaxMessageSize)
	}
	if c.MaxMailboxes, err = strconv.Atoi(v("max-mailboxes")); err != nil || c.MaxMailboxes < 0 || c.MaxMailboxes > 1<<30 ||
		(c.MaxMailboxes != 0 && c.MaxMailboxes < 6) {
		// A new account has six mailboxes (INBOX and the special-use ones).
		return nil, bad("max-mailboxes", "want 0 (no limit) or a number of mailboxes of at least 6")
	}
	if c.MaxMailboxDepth, err = strconv.Atoi(v("max-mailbox-depth")); err != nil || c.MaxMailboxDepth < 0 || c.MaxMailboxDepth > 1024 {
		return nil, bad("max-mailbox-depth", "want a number of levels up to 1024, 0 for no limit")
	}
	if c.AuthConcurrency, err = strconv.Atoi(v("auth-concurrency")); err != nil || c.AuthConcurrency < 0 || c.AuthConcurrency > 1024 {
		return nil, bad("auth-concurrency", "want a number from 0 (one per core) to 1024")
	}
	if c.AutoBan, err = parseAutoBan(v("auto-ban"), v("auto-ban-exempt")); err != nil {
		return nil, err
	}
	if c.DNSBL, err = dnsbl.ParseZones(v("dnsbl")); err != nil {
		return nil, bad("dnsbl", "%v", err)
	}
	if r := strings.ToLower(v("resolver")); len(c.DNSBL) > 0 && (r == "" || r == "none") {
		return nil, bad("dnsbl", "blocklists need DNS: set --resolver (HOST:PORT or system)")
	}
	if c.Greylist, err = time.ParseDuration(v("greylist")); err != nil || c.Greylist < 0 || c.Greylist > 24*time.Hour ||
		(c.Greylist > 0 && c.Greylist < time.Second) {
		return nil, bad("greylist", "want 0 (off) or a duration from 1s to 24h, such as 5m")
	}
	if c.QueueLifetime, err = time.ParseDuration(v("queue-lifetime")); err != nil || c.QueueLifetime < time.Minute {
		return nil, bad("queue-lifetime", "want a duration of at least 1m, such as 120h")
	}
	if c.DelayWarning, err = time.ParseDuration(v("delay-warning")); err != nil || c.DelayWarning < 0 ||
		(c.DelayWarning > 0 && c.DelayWarning < time.Minute) {
		return nil, bad("delay-warning", "want 0 or a duration of at least 1m, such as 4h")
	}
	if c.ReportRetention, err = time.ParseDuration(v("report-retention")); err != nil || c.ReportRetention < 48*time.Hour {
		return nil, bad("report-retention", "want a duration of at least 48h, such as 168h")
	}
	for _, d := range splitList(v("queue-schedule")) {
		step, err := time.ParseDuration(d)
		if err != nil || step < time.Second {
			return nil, bad("queue-schedule", "want durations of at least 1s, comma separated, such as 1m,5m,1h")
		}
		c.QueueSchedule = append(c.QueueSchedule, step)
	}
	if len(c.QueueSchedule) == 0 {
		return nil, bad("queue-schedule", "want at least one duration")
	}
	// hashicorp/raft refuses timeouts under 5 ms and a lease longer than
	// the heartbeat timeout.
	for _, d := range []struct {
		name string
		to   *time.Duration
	}{{"raft-heartbeat-timeout", &c.RaftHeartbeat}, {"raft-election-timeout", &c.RaftElection}, {"raft-lease-timeout", &c.RaftLease}} {
		if *d.to, err = time.ParseDuration(v(d.name)); err != nil || *d.to < 5*time.Millisecond || *d.to > time.Minute {
			return nil, bad(d.name, "want a duration from 5ms to 1m, such as 200ms")
		}
	}
	if c.RaftLease > c.RaftHeartbeat {
		return nil, bad("raft-lease-timeout", "must not exceed --raft-heartbeat-timeout (%v)", c.RaftHeartbeat)
	}
	if c.SnapshotThreshold, err = strconv.ParseUint(v("snapshot-threshold"), 10, 64); err != nil || c.SnapshotThreshold < 16 {
		return nil, bad("snapshot-threshold", "want a number of entries of at least 16")
	}
	if c.SnapshotInterval, err = time.ParseDuration(v("snapshot-interval")); err != nil || c.SnapshotInterval < 100*time.Millisecond {
		return nil, bad("snapshot-interval", "want a duration of at least 100ms, such as 60s")
	}
	if c.TrailingLogs, err = strconv.ParseUint(v("trailing-logs"), 10, 64); err != nil || c.TrailingLogs < 1 {
		return nil, bad("trailing-logs", "want a number of entries of at least 1")
	}
	if c.MinFreeSpace, err = strconv.ParseUint(v("min-free-space"), 10, 64); err != nil || (c.MinFreeSpace != 0 && c.MinFreeSpace < minMinFreeSpace) {
		return nil, bad("min-free-space", "want 0 (off) or a number of bytes of at least %d", minMinFreeSpace)
	}
	if c.MTASTS, err = strconv.ParseBool(v("mta-sts")); err != nil {
		return nil, bad("mta-sts", "want true or false")
	}
	if c.AllowPrivateMX, err = strconv.ParseBool(v("allow-private-mx")); err != nil {
		return nil, bad("allow-private-mx", "want true or false")
	}
	if err := c.smarthostSecurity(v); err != nil {
		return nil, err
	}
	c.ResolverSpec = v("resolver")
	if c.ResolverDNSSEC, err = strconv.ParseBool(v("resolver-dnssec")); err != nil {
		return nil, bad("resolver-dnssec", "want true or false")
	}
	if c.Resolver, err = dns.Parse(c.ResolverSpec); err != nil {
		return nil, bad("resolver", "%v", err)
	}
	if c.ResolverDNSSEC {
		if c.Resolver, err = dns.ParseWithOptions(c.ResolverSpec, dns.Options{TrustAD: true}); err != nil {
			return nil, bad("resolver-dnssec", "%v", err)
		}
	}

	if c.SPFPolicy, err = mailauth.ParseSPFPolicy(v("spf-policy")); err != nil {
		return nil, bad("spf-policy", "%v", err)
	}
	if c.ARCTrustedSealers, err = mailauth.ParseSealers(v("arc-trusted-sealers")); err != nil {
		return nil, bad("arc-trusted-sealers", "%v", err)
	}
	if err := c.parseScanners(v, bad); err != nil {
		return nil, err
	}

	if c.SpamClassifier, err = strconv.ParseBool(v("spam-classifier")); err != nil {
		return nil, bad("spam-classifier", "want true or false")
	}
	if c.SpamThreshold, err = strconv.ParseFloat(v("spam-threshold"), 64); err != nil || !(c.SpamThreshold > 0 && c.SpamThreshold < 1) {
		return nil, bad("spam-threshold", "want a probability between 0 and 1 (exclusive), such as 0.8")
	}

	c.TLSCert, c.TLSKey = v("tls-cert"), v("tls-key")
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return nil, usagef("serve: --tls-cert and --tls-key go together")
	}
	if c.TLSCert != "" {
		cert, err := tlsconf.LoadKeyPair(c.TLSCert, c.TLSKey)
		if err != nil {
			return nil, usagef("serve: %v", err)
		}
		c.operatorCert = &cert
	}

	c.ClusterKeyFile = v("cluster-key-file")
	if c.ClusterKey, err = cluster.LoadKey(getenv("SURAT_CLUSTER_KEY"), c.ClusterKeyFile); err != nil {
		return nil, usagef("serve: %v", err)
	}
	if c.ClusterKey == nil {
		// Without a key the cluster uses a public development key; its
		// traffic must not leave the machine (docs/DESIGN.md invariant 8).
		addrs := []struct{ flag, addr string }{{"raft", c.Raft}, {"gossip", c.Gossip}}
		for _, j := range c.Join {
			addrs = append(addrs, struct{ flag, addr string }{"join", j})
		}
		for _, a := range addrs {
			if !isLoopback(a.addr) {
				return nil, usagef("serve: --%s %s is not a loopback address: set SURAT_CLUSTER_KEY or --cluster-key-file to run a cluster across hosts", a.flag, a.addr)
			}
		}
	}
	if c.AdminToken == "" && !isLoopback(c.HTTP) {
		return nil, usagef("serve: --http %s is not a loopback address: set SURAT_ADMIN_TOKEN so the admin API is not open to the network", c.HTTP)
	}

	if err := c.LogLevel.UnmarshalText([]byte(v("log-level"))); err != nil {
		return nil, bad("log-level", "want debug, info, warn or error")
	}
	c.LogFormat = v("log-format")
	if c.LogFormat != "text" && c.LogFormat != "json" {
		return nil, bad("log-format", "want text or json")
	}
	return c, nil
}

// mailHostname is the node's one public mail name (docs/OPERATING.md): --hostname, else the operating system's host name. It
// must be a domain name, since it goes into EHLO (RFC 5321 §4.1.1.1),
// Received fields (§4.4) and the certificate; a host name that is not one
// is refused, as Postfix refuses to start with an unusable myhostname.
func mailHostname(flagValue string, osHostname func() (string, error)) (string, error) {
	name := flagValue
	from := "--hostname"
	if name == "" {
		h, err := osHostname()
		if err != nil {
			return "", fmt.Errorf("cannot read the host name (%v): set --hostname", err)
		}
		name, from = h, "the host name"
	}
	canonical, err := address.Domain(name)
	if err != nil {
		if from == "--hostname" {
			return "", fmt.Errorf("--hostname %q: %v", flagValue, err)
		}
		return "", fmt.Errorf("%s %q is not a domain name (%v): set --hostname", from, name, err)
	}
	return canonical, nil
}

// smarthostSecurity reads the --smarthost-* flags. The default is verify:
// a smarthost across a network gets STARTTLS and a verified certificate,
// or nothing. A smarthost on a loopback address (a content filter or a
// local MTA on this machine) defaults to none: no network is crossed, and
// such relays commonly speak plaintext. Either way the choice is explicit
// and logged; nothing falls back to plaintext by itself.
func (c *serveConfig) smarthostSecurity(v func(string) string) error {
	mode, ca, auth, authFile := v("smarthost-tls"), v("smarthost-ca"), v("smarthost-auth"), v("smarthost-auth-file")
	if c.Smarthost == "" {
		for _, f := range []struct{ name, val string }{{"smarthost-tls", mode}, {"smarthost-ca", ca}, {"smarthost-auth", auth}, {"smarthost-auth-file", authFile}} {
			if f.val != "" {
				return usagef("serve: --%s needs --smarthost", f.name)
			}
		}
		return nil
	}
	switch {
	case mode != "":
		m, err := outbound.ParseTLSMode(mode)
		if err != nil {
			return usagef("serve: --smarthost-tls %q: %v", mode, err)
		}
		c.SmarthostTLS = m
	case isLoopback(c.Smarthost):
		c.SmarthostTLS = outbound.TLSNone
	default:
		c.SmarthostTLS = outbound.TLSVerify
	}
	if ca != "" {
		if c.SmarthostTLS != outbound.TLSVerify {
			return usagef("serve: --smarthost-ca is used only with --smarthost-tls verify")
		}
		data, err := os.ReadFile(ca)
		if err != nil {
			return usagef("serve: --smarthost-ca: %v", err)
		}
		if c.SmarthostCA, err = outbound.LoadCA(data); err != nil {
			return usagef("serve: --smarthost-ca %s: %v", ca, err)
		}
	}
	if auth != "" && authFile != "" {
		return usagef("serve: --smarthost-auth and --smarthost-auth-file exclude each other")
	}
	from := "--smarthost-auth"
	if authFile != "" {
		data, err := os.ReadFile(authFile)
		if err != nil {
			return usagef("serve: --smarthost-auth-file: %v", err)
		}
		line, _, _ := strings.Cut(string(data), "\n")
		auth, from = strings.TrimSuffix(line, "\r"), "--smarthost-auth-file "+authFile
	}
	if auth != "" {
		user, pass, ok := strings.Cut(auth, ":")
		if !ok || user == "" || pass == "" {
			return usagef("serve: %s: want USER:PASSWORD", from)
		}
		if c.SmarthostTLS == outbound.TLSNone && !isLoopback(c.Smarthost) {
			return usagef("serve: %s: a password would cross the network in plaintext; use --smarthost-tls verify or starttls", from)
		}
		c.SmarthostAuth = &outbound.Credentials{Username: user, Password: pass}
	}
	return nil
}

func validNodeID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
