package main

import (
	"context"
	"flag"
	"fmt"
	"strings"

	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

const aclUsage = `Usage:
  surat acl get EMAIL MAILBOX [--server URL]
                        the ACL of EMAIL's mailbox: one "IDENTIFIER<TAB>RIGHTS" a line,
                        the owner first (who always holds every right)
  surat acl set EMAIL MAILBOX IDENTIFIER RIGHTS [--server URL]
                        change IDENTIFIER's rights on the mailbox, as IMAP's SETACL
                        (RFC 4314 §3.1): "lrs" sets exactly these, "+w" adds, "-w" removes
  surat acl del EMAIL MAILBOX IDENTIFIER [--server URL]
                        take IDENTIFIER out of the ACL (DELETEACL)

IDENTIFIER is a user's address, "anyone" or "authenticated"; a "-" in front
names negative rights, taken from what the others grant. RIGHTS are RFC
4314's letters: l lookup (LIST), r read, s keep \Seen, w other flags,
i insert (APPEND, COPY into), p post (Sieve fileinto into it), k create
below, x delete the mailbox, t set \Deleted, e expunge, a administer
(c and d as RFC 2086's). A user with l sees the mailbox as
"Other Users/EMAIL/MAILBOX" over IMAP. Owners share their own mailboxes
with IMAP's SETACL; these commands are the administrator's.
`

func runACL(ctx context.Context, e *env, args []string) error {
	subs := "get, set, del"
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, aclUsage)
		if len(args) == 0 {
			return usagef("acl: missing subcommand (%s)", subs)
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "get", "set", "del":
	default:
		return usagef("acl: unknown subcommand %q (%s)", sub, subs)
	}
	fs, cf := newClientFlagSet("acl "+sub, false)
	pos, c, err := parseClientCommand(e, fs, cf, dashesPositional(fs, rest), aclUsage)
	if err != nil {
		return err
	}
	var res admin.ACLResponse
	switch sub {
	case "get":
		if err := wantArgs("acl get", pos, "EMAIL", "MAILBOX"); err != nil {
			return err
		}
		if res, err = c.ACL(ctx, pos[0], pos[1]); err != nil {
			return fmt.Errorf("acl get %s %s: %w", pos[0], pos[1], err)
		}
	case "set":
		if err := wantArgs("acl set", pos, "EMAIL", "MAILBOX", "IDENTIFIER", "RIGHTS"); err != nil {
			return err
		}
		if _, _, err := acl.ParseModification(pos[3]); err != nil {
			return usagef("acl set: rights %q: %v (see surat acl --help)", pos[3], strings.TrimPrefix(err.Error(), "acl: "))
		}
		if res, err = c.SetACL(ctx, pos[0], pos[1], pos[2], pos[3]); err != nil {
			return fmt.Errorf("acl set %s %s %s %s: %w", pos[0], pos[1], pos[2], pos[3], err)
		}
	case "del":
		if err := wantArgs("acl del", pos, "EMAIL", "MAILBOX", "IDENTIFIER"); err != nil {
			return err
		}
		if res, err = c.SetACL(ctx, pos[0], pos[1], pos[2], ""); err != nil {
			return fmt.Errorf("acl del %s %s %s: %w", pos[0], pos[1], pos[2], err)
		}
	}
	printACL(e, res)
	return nil
}

// printACL prints the owner's implicit rights, then the entries, one
// "IDENTIFIER<TAB>RIGHTS" a line, as GETACL lists them.
func printACL(e *env, res admin.ACLResponse) {
	fmt.Fprintf(e.stdout, "%s\t%s\n", res.Owner, acl.All)
	for _, x := range res.Entries {
		fmt.Fprintf(e.stdout, "%s\t%s\n", x.Identifier, x.Rights)
	}
}

// dashesPositional moves the arguments that start with "-" but are not
// flags of fs (a negative identifier "-bob@example.com", rights "-w")
// after a "--", so that the flag parser takes them as positional,
// keeping their order among the others.
func dashesPositional(fs *flag.FlagSet, args []string) []string {
	var flags, pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			pos = append(pos, args[i+1:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		f := fs.Lookup(name)
		switch {
		case !strings.HasPrefix(a, "-") || a == "-":
			pos = append(pos, a)
		case name == "h" || name == "help":
			flags = append(flags, a)
		case f == nil:
			pos = append(pos, a)
		default:
			flags = append(flags, a)
			if b, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && b.IsBoolFlag()) && i+1 < len(args) {
				i++
				flags = append(flags, args[i])
			}
		}
	}
	return append(append(flags, "--"), pos...)
}
