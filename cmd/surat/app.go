package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// env is everything a command may touch of the process, injected so tests
// can run commands without a process of their own.
type env struct {
	args           []string
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
}

// Exit statuses.
const (
	exitOK    = 0
	exitError = 1 // the command failed
	exitUsage = 2 // the command line is wrong
)

// usageError is a mistake in the command line: exit status 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...)}
}

// errHelp asks for the command's usage on stdout and exit 0.
var errHelp = errors.New("help requested")

const mainUsage = `Surat: a clustered mail server.

Usage:
  surat serve [flags]                          run a node (surat serve --help)
  surat user add EMAIL [--password-stdin]      create a user
  surat user passwd EMAIL [--password-stdin]   change a user's password
  surat user del EMAIL                         delete a user and all its mail
  surat user list                              list users, one a line
  surat user quota EMAIL BYTES [--messages N]  set a quota (0: none; K, M, G, T suffixes)
  surat user forward EMAIL [--to ADDR[,ADDR] [--keep] | --off]
                                               forward a user's mail (SRS); without --to: show
  surat queue list                             the outbound queue
  surat queue retry ID                         try a queue entry again now
  surat queue delete ID                        drop a queue entry (no bounce)
  surat ban list                               client bans in force: prefix, expiry, reason
  surat ban add ADDR|CIDR [--for D] [--reason T]
                                               refuse a client on every node (24h; --for 0: for good)
  surat ban del ADDR|CIDR                      lift a ban
  surat domain list                            local domains, one a line
  surat domain add DOMAIN                      add a domain, with new DKIM keys
  surat domain del DOMAIN                      remove a domain no user or alias uses
  surat domain show DOMAIN                     its settings and DKIM keys
  surat domain records DOMAIN [--check]        the DNS records it needs; --check: what is missing or wrong
  surat domain set DOMAIN [--dmarc-enforce=B] [--mta-sts=M] [--dmarc-policy=P]
                                               change its settings (see surat domain --help)
  surat domain rotate-key DOMAIN               add new DKIM keys (new selectors)
  surat domain retire-key DOMAIN SELECTOR      delete a DKIM key
  surat dmarc report [--domain D] [--limit N]  DMARC aggregate reports received for our domains
  surat dmarc pending                          DMARC and TLS-RPT reports not sent yet
  surat spam train [--user EMAIL] (--spam PATH | --ham PATH)...
                                               train the spam classifier from mbox files or .eml dirs
  surat spam status [--user EMAIL]             messages trained and tokens of the classifier's models
  surat sieve put EMAIL NAME [--activate]      store a Sieve script read from stdin (surat sieve --help)
  surat sieve get EMAIL NAME                   print a script
  surat sieve list EMAIL                       the scripts, the active one marked "active"
  surat sieve activate EMAIL NAME              make a script the one deliveries run
  surat sieve deactivate EMAIL                 no active script
  surat sieve delete EMAIL NAME                delete a script (not the active one)
  surat sieve check                            compile a script from stdin here
  surat acl get EMAIL MAILBOX                  who may use a mailbox (RFC 4314 ACL), one identifier a line
  surat acl set EMAIL MAILBOX IDENTIFIER RIGHTS
                                               share a mailbox: RIGHTS as IMAP's SETACL (lrs, +w, -w)
  surat acl del EMAIL MAILBOX IDENTIFIER       take an identifier out of a mailbox's ACL
  surat cluster status                         members, states and applied indexes
  surat cluster keygen [--out FILE]            make a cluster key
  surat version                                print the version
  surat help [COMMAND]                         this text, or a command's

Admin commands take --server URL (default http://127.0.0.1:8080) anywhere on
the line and send SURAT_ADMIN_TOKEN as a bearer token when it is set. A node
whose --http is not on loopback serves https: trust its certificate with
--ca-file FILE (or SURAT_ADMIN_CA), or skip the check with --insecure.
`

// run executes one command line and returns the exit status. Every failure
// is reported as exactly one line on stderr.
func run(ctx context.Context, e *env) int {
	err := dispatch(ctx, e, e.args)
	if err == nil {
		return exitOK
	}
	if errors.Is(err, errHelp) {
		return exitOK
	}
	fmt.Fprintln(e.stderr, "surat: "+oneLine(err.Error()))
	var ue *usageError
	if errors.As(err, &ue) {
		return exitUsage
	}
	return exitError
}

func dispatch(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		fmt.Fprint(e.stderr, mainUsage)
		return usagef("no command given")
	}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "serve":
		return runServeCommand(ctx, e, rest)
	case "user":
		return runUser(ctx, e, rest)
	case "cluster":
		return runCluster(ctx, e, rest)
	case "queue":
		return runQueue(ctx, e, rest)
	case "ban":
		return runBan(ctx, e, rest)
	case "domain":
		return runDomain(ctx, e, rest)
	case "dmarc":
		return runDMARC(ctx, e, rest)
	case "spam":
		return runSpam(ctx, e, rest)
	case "sieve":
		return runSieve(ctx, e, rest)
	case "acl":
		return runACL(ctx, e, rest)
	case "version", "--version":
		fmt.Fprintln(e.stdout, versionString())
		return nil
	case "help", "-h", "-help", "--help":
		if len(rest) > 0 && cmd == "help" {
			return dispatch(ctx, e, []string{rest[0], "--help"})
		}
		fmt.Fprint(e.stdout, mainUsage)
		return errHelp
	default:
		return usagef("unknown command %q (see surat help)", cmd)
	}
}

// oneLine folds an error onto one line: the contract promises one line.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
