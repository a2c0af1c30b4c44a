package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/surat-mail/surat/protocols/admin"
)

const defaultServer = "http://127.0.0.1:8080"

const userUsage = `Usage:
  surat user add EMAIL [--password-stdin | --password-hash HASH] [--server URL]
  surat user passwd EMAIL [--password-stdin] [--server URL]
  surat user del EMAIL [--server URL]
  surat user list [--server URL]
  surat user quota EMAIL BYTES [--messages N] [--server URL]
                                                 (0: no limit; K, M, G, T suffixes);
                                                 --messages also limits the number
                                                 of messages (0: no limit)
  surat user forward EMAIL [--to ADDR[,ADDR] [--keep] | --off] [--server URL]
                                                 forward EMAIL's mail to ADDR (the envelope
                                                 sender rewritten by SRS); --keep also files
                                                 a copy; --off stops; neither: show it

Without --password-stdin the password is prompted for, without echo, when
standard input is a terminal. --password-hash imports an existing hash as it
is (argon2id in PHC form, or bcrypt $2a$/$2b$/$2y$, as Dovecot's ARGON2ID and
BLF-CRYPT schemes store them, without the {SCHEME} prefix); "-" reads it from
the first line of standard input, which keeps it out of the process list.
SURAT_ADMIN_TOKEN is sent when set.
`

// clientFlags are the flags every admin command shares.
type clientFlags struct {
	server        *string
	caFile        *string
	insecure      *bool
	passwordStdin *bool
}

func newClientFlagSet(name string, withPassword bool) (*flag.FlagSet, *clientFlags) {
	fs := newFlagSet(name)
	cf := &clientFlags{server: fs.String("server", defaultServer, "admin API `URL` of any node"),
		caFile:   fs.String("ca-file", "", "PEM `FILE` to trust for an https --server, e.g. the node's DATA/tls/cert.pem (or set SURAT_ADMIN_CA)"),
		insecure: fs.Bool("insecure", false, "do not verify an https --server's certificate")}
	if withPassword {
		cf.passwordStdin = fs.Bool("password-stdin", false, "read the password from the first line of standard input")
	}
	return fs, cf
}

// parseClientCommand parses an admin command's arguments (parseCommand)
// and makes the client its flags name.
func parseClientCommand(e *env, fs *flag.FlagSet, cf *clientFlags, args []string, usage string) ([]string, *admin.Client, error) {
	pos, err := parseCommand(e, fs, args, usage)
	if err != nil {
		return nil, nil, err
	}
	c, err := cf.client(e)
	if err != nil {
		return nil, nil, err
	}
	return pos, c, nil
}

func (cf *clientFlags) client(e *env) (*admin.Client, error) {
	c, err := admin.NewClient(*cf.server, e.getenv("SURAT_ADMIN_TOKEN"), 0)
	if err != nil {
		return nil, usagef("--server: %v", err)
	}
	caFile := *cf.caFile
	if caFile == "" {
		caFile = e.getenv("SURAT_ADMIN_CA")
	}
	if caFile != "" || *cf.insecure {
		cfg := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: *cf.insecure}
		if caFile != "" {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return nil, usagef("--ca-file: %v", err)
			}
			cfg.RootCAs = x509.NewCertPool()
			if !cfg.RootCAs.AppendCertsFromPEM(pem) {
				return nil, usagef("--ca-file %s: no PEM certificate found", caFile)
			}
		}
		c.SetTLS(cfg)
	}
	return c, nil
}

func runUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, userUsage)
		if len(args) == 0 {
			return usagef("user: missing subcommand (add, passwd, del, list, quota, forward)")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	withPassword := sub == "add" || sub == "passwd"
	fs, cf := newClientFlagSet("user "+sub, withPassword)
	var passwordHash *string
	if sub == "add" {
		passwordHash = fs.String("password-hash", "", "import this argon2id (PHC) or bcrypt `HASH` instead of a password (\"-\": the first line of standard input)")
	}
	var fwd *forwardFlags
	var messages *string
	switch sub {
	case "add", "passwd", "del", "list":
	case "quota":
		messages = fs.String("messages", "", "also limit the number of messages to `N` (0: no limit; unset: left as it is)")
	case "forward":
		fwd = newForwardFlags(fs)
	default:
		return usagef("user: unknown subcommand %q (add, passwd, del, list, quota, forward)", sub)
	}
	pos, c, err := parseClientCommand(e, fs, cf, rest, userUsage)
	if err != nil {
		return err
	}
	switch sub {
	case "add", "passwd":
		if err := wantArgs("user "+sub, pos, "EMAIL"); err != nil {
			return err
		}
		if passwordHash != nil && *passwordHash != "" {
			if *cf.passwordStdin {
				return usagef("user add: --password-hash and --password-stdin exclude each other (--password-hash - reads the hash from stdin)")
			}
			hash := *passwordHash
			if hash == "-" {
				if hash, err = firstLine(e.stdin); err != nil {
					return fmt.Errorf("user add %s: %w", pos[0], err)
				}
			}
			if err := c.AddUserWithHash(ctx, pos[0], hash); err != nil {
				return fmt.Errorf("user add %s: %w", pos[0], err)
			}
			return nil
		}
		pw, err := readPassword(e, *cf.passwordStdin, pos[0])
		if err != nil {
			return fmt.Errorf("user %s %s: %w", sub, pos[0], err)
		}
		if sub == "add" {
			err = c.AddUser(ctx, pos[0], pw)
		} else {
			err = c.SetPassword(ctx, pos[0], pw)
		}
		if err != nil {
			return fmt.Errorf("user %s %s: %w", sub, pos[0], err)
		}
	case "del":
		if err := wantArgs("user del", pos, "EMAIL"); err != nil {
			return err
		}
		if err := c.DeleteUser(ctx, pos[0]); err != nil {
			return fmt.Errorf("user del %s: %w", pos[0], err)
		}
	case "list":
		if err := wantArgs("user list", pos); err != nil {
			return err
		}
		users, err := c.Users(ctx)
		if err != nil {
			return fmt.Errorf("user list: %w", err)
		}
		for _, u := range users {
			fmt.Fprintln(e.stdout, u)
		}
	case "forward":
		if err := wantArgs("user forward", pos, "EMAIL"); err != nil {
			return err
		}
		return userForward(ctx, e, c, pos[0], fwd)
	case "quota":
		if err := wantArgs("user quota", pos, "EMAIL", "BYTES"); err != nil {
			return err
		}
		n, err := parseSize(pos[1])
		if err != nil {
			return usagef("user quota: %v", err)
		}
		var limit *uint64
		if *messages != "" {
			m, err := strconv.ParseUint(*messages, 10, 64)
			if err != nil {
				return usagef("user quota: --messages %q: not a number of messages", *messages)
			}
			limit = &m
		}
		if err := c.SetQuota(ctx, pos[0], n, limit); err != nil {
			return fmt.Errorf("user quota %s: %w", pos[0], err)
		}
	}
	return nil
}

// parseSize parses BYTES with an optional binary suffix K, M, G or T
// (KiB...TiB, as quotas are usually spoken of).
func parseSize(s string) (uint64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(strings.TrimSuffix(t, "B"), "I")
	shift := 0
	if t != "" {
		switch t[len(t)-1] {
		case 'K':
			shift = 10
		case 'M':
			shift = 20
		case 'G':
			shift = 30
		case 'T':
			shift = 40
		}
		if shift > 0 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseUint(t, 10, 64)
	if err != nil || (shift > 0 && n > (^uint64(0))>>shift) {
		return 0, fmt.Errorf("bad size %q: want a number of bytes, optionally with K, M, G or T", s)
	}
	return n << shift, nil
}
