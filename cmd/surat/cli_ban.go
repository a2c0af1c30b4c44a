package main

import (
	"context"
	"fmt"
	"time"

	"github.com/surat-mail/surat/protocols/admin"
)

const banUsage = `Usage:
  surat ban list [--server URL]            bans in force, one a line: prefix, expiry, reason
  surat ban add ADDR|CIDR [--for DURATION] [--reason TEXT] [--server URL]
  surat ban del ADDR|CIDR [--server URL]

A banned client is refused at connect on SMTP, IMAP and POP3, on every node.
An IPv6 address bans its /64. --for takes a Go duration (90m, 24h, 720h);
the default is 24h, and 0 bans for good. Expired bans stop counting at once
and are removed from the list by the leader.
`

func runBan(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, banUsage)
		if len(args) == 0 {
			return usagef("ban: missing subcommand (list, add, del)")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "add", "del":
	default:
		return usagef("ban: unknown subcommand %q (list, add, del)", sub)
	}
	fs, cf := newClientFlagSet("ban "+sub, false)
	var (
		forDur = admin.DefaultBanDuration
		reason string
	)
	if sub == "add" {
		fs.DurationVar(&forDur, "for", admin.DefaultBanDuration, "how long the ban lasts (`DURATION`; 0: for good)")
		fs.StringVar(&reason, "reason", "", "why, shown by ban list (`TEXT`)")
	}
	pos, c, err := parseClientCommand(e, fs, cf, rest, banUsage)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if err := wantArgs("ban list", pos); err != nil {
			return err
		}
		bans, err := c.Bans(ctx)
		if err != nil {
			return fmt.Errorf("ban list: %w", err)
		}
		for _, b := range bans {
			fmt.Fprintln(e.stdout, banLine(b))
		}
	case "add":
		if err := wantArgs("ban add", pos, "ADDR|CIDR"); err != nil {
			return err
		}
		if forDur < 0 {
			return usagef("ban add: --for %s: want 0 (for good) or a positive duration", forDur)
		}
		if forDur > 0 && forDur < time.Second {
			return usagef("ban add: --for %s: shorter than a second", forDur)
		}
		b, err := c.AddBan(ctx, pos[0], forDur, reason)
		if err != nil {
			return fmt.Errorf("ban add %s: %w", pos[0], err)
		}
		fmt.Fprintln(e.stdout, banLine(b))
	case "del":
		if err := wantArgs("ban del", pos, "ADDR|CIDR"); err != nil {
			return err
		}
		if err := c.DeleteBan(ctx, pos[0]); err != nil {
			return fmt.Errorf("ban del %s: %w", pos[0], err)
		}
	}
	return nil
}

// banLine is one ban as ban list prints it: prefix, expiry (RFC 3339 UTC,
// or "never"), reason; separated by single spaces, the reason last since
// it may contain spaces.
func banLine(b admin.Ban) string {
	exp := "never"
	if b.Expires != nil {
		exp = b.Expires.UTC().Format(time.RFC3339)
	}
	line := b.Prefix + " " + exp
	if b.Reason != "" {
		line += " " + b.Reason
	}
	return line
}
