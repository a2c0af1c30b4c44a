package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/sieve"
	"github.com/surat-mail/surat/protocols/sievestore"
)

const sieveUsage = `Usage:
  surat sieve put EMAIL NAME [--activate] [--server URL] < script
                                          store (or replace) a script, compiled first
  surat sieve get EMAIL NAME [--server URL]
                                          print a script
  surat sieve list EMAIL [--server URL]   the scripts, one a line: NAME, then "active" for the active one
  surat sieve activate EMAIL NAME [--server URL]
                                          make NAME the active script (the one deliveries run)
  surat sieve deactivate EMAIL [--server URL]
                                          leave EMAIL without an active script
  surat sieve delete EMAIL NAME [--server URL]
                                          delete a script (not the active one)
  surat sieve check < script              compile a script here and print its errors (exit 1 if any)

EMAIL is a user's address, or "@DOMAIN" for the script that runs before
the scripts of DOMAIN's users, or "@" for the one that runs before
everyone's (Pigeonhole's sieve_before); those run in that order, each with
its own implicit keep. A script is at most 64 KiB, a user has at most 32.
Users manage their own scripts over ManageSieve (RFC 5804, --managesieve).
`

// maxSieveStdin bounds a script read from standard input: the store's
// limit and a little more, so that a larger one gets the server's answer.
const maxSieveStdin = 4 * sievestore.DefaultMaxScriptBytes

func runSieve(ctx context.Context, e *env, args []string) error {
	subs := "put, get, list, activate, deactivate, delete, check"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, sieveUsage)
		if len(args) == 0 {
			return usagef("sieve: missing subcommand (%s)", subs)
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "put", "get", "list", "activate", "deactivate", "delete":
	case "check":
		return sieveCheck(e, rest)
	default:
		return usagef("sieve: unknown subcommand %q (%s)", sub, subs)
	}
	fs, cf := newClientFlagSet("sieve "+sub, false)
	var activate *bool
	if sub == "put" {
		activate = fs.Bool("activate", false, "also make it the active script")
	}
	pos, c, err := parseClientCommand(e, fs, cf, rest, sieveUsage)
	if err != nil {
		return err
	}
	switch sub {
	case "put":
		if err := wantArgs("sieve put", pos, "EMAIL", "NAME"); err != nil {
			return err
		}
		src, err := readScript(e)
		if err != nil {
			return fmt.Errorf("sieve put %s %s: %w", pos[0], pos[1], err)
		}
		if err := c.PutSieveScript(ctx, pos[0], pos[1], string(src), *activate); err != nil {
			return fmt.Errorf("sieve put %s %s: %w", pos[0], pos[1], err)
		}
	case "get":
		if err := wantArgs("sieve get", pos, "EMAIL", "NAME"); err != nil {
			return err
		}
		sc, err := c.SieveScript(ctx, pos[0], pos[1])
		if err != nil {
			return fmt.Errorf("sieve get %s %s: %w", pos[0], pos[1], err)
		}
		fmt.Fprint(e.stdout, sc.Script)
	case "list":
		if err := wantArgs("sieve list", pos, "EMAIL"); err != nil {
			return err
		}
		list, err := c.SieveScripts(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("sieve list %s: %w", pos[0], err)
		}
		for _, s := range list {
			if s.Active {
				fmt.Fprintf(e.stdout, "%s\tactive\n", s.Name)
			} else {
				fmt.Fprintln(e.stdout, s.Name)
			}
		}
	case "activate":
		if err := wantArgs("sieve activate", pos, "EMAIL", "NAME"); err != nil {
			return err
		}
		if err := c.ActivateSieveScript(ctx, pos[0], pos[1]); err != nil {
			return fmt.Errorf("sieve activate %s %s: %w", pos[0], pos[1], err)
		}
	case "deactivate":
		if err := wantArgs("sieve deactivate", pos, "EMAIL"); err != nil {
			return err
		}
		if err := c.DeactivateSieve(ctx, pos[0]); err != nil {
			return fmt.Errorf("sieve deactivate %s: %w", pos[0], err)
		}
	case "delete":
		if err := wantArgs("sieve delete", pos, "EMAIL", "NAME"); err != nil {
			return err
		}
		if err := c.DeleteSieveScript(ctx, pos[0], pos[1]); err != nil {
			return fmt.Errorf("sieve delete %s %s: %w", pos[0], pos[1], err)
		}
	}
	return nil
}

// readScript reads a script from standard input, refusing an empty one
// (a forgotten redirection) and one far past the store's limit.
func readScript(e *env) ([]byte, error) {
	src, err := io.ReadAll(io.LimitReader(e.stdin, maxSieveStdin+1))
	switch {
	case err != nil:
		return nil, fmt.Errorf("read the script from standard input: %w", err)
	case len(src) == 0:
		return nil, usagef("no script on standard input (surat sieve put EMAIL NAME < script)")
	case len(src) > maxSieveStdin:
		return nil, fmt.Errorf("script larger than %d bytes", maxSieveStdin)
	}
	return src, nil
}

// sieveCheck compiles a script from standard input without a server.
func sieveCheck(e *env, args []string) error {
	fs := newFlagSet("sieve check")
	pos, err := parseCommand(e, fs, args, sieveUsage)
	if err != nil {
		return err
	}
	if err := wantArgs("sieve check", pos); err != nil {
		return err
	}
	src, err := readScript(e)
	if err != nil {
		return fmt.Errorf("sieve check: %w", err)
	}
	if err := sieve.Check(src); err != nil {
		return fmt.Errorf("sieve check: %w", err)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}

// forwardFlags are `user forward`'s.
type forwardFlags struct {
	to        []string
	toSet     bool
	keep, off *bool
}

func newForwardFlags(fs *flag.FlagSet) *forwardFlags {
	f := &forwardFlags{}
	fs.Func("to", "forward to these `ADDR[,ADDR]` (repeatable)", func(s string) error {
		f.toSet = true
		for _, a := range strings.Split(s, ",") {
			if a = strings.TrimSpace(a); a != "" {
				f.to = append(f.to, a)
			}
		}
		return nil
	})
	f.keep = fs.Bool("keep", false, "also file a copy as usual")
	f.off = fs.Bool("off", false, "stop forwarding")
	return f
}

// userForward sets, clears or shows a user's forwarding and prints it:
// "forward ADDR,ADDR" and "keep true|false", or "forward off".
func userForward(ctx context.Context, e *env, c *admin.Client, user string, f *forwardFlags) error {
	var (
		res admin.ForwardResponse
		err error
	)
	switch {
	case *f.off && f.toSet:
		return usagef("user forward: --to and --off exclude each other")
	case f.toSet && len(f.to) == 0:
		return usagef("user forward: --to needs an address (--off stops forwarding)")
	case *f.off:
		res, err = c.SetForwarding(ctx, user, nil, false)
	case f.toSet:
		res, err = c.SetForwarding(ctx, user, f.to, *f.keep)
	case *f.keep:
		return usagef("user forward: --keep goes with --to")
	default:
		res, err = c.Forwarding(ctx, user)
	}
	if err != nil {
		return fmt.Errorf("user forward %s: %w", user, err)
	}
	if len(res.To) == 0 {
		fmt.Fprintln(e.stdout, "forward off")
		return nil
	}
	fmt.Fprintln(e.stdout, "forward", strings.Join(res.To, ","))
	fmt.Fprintln(e.stdout, "keep", res.Keep)
	return nil
}
