package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/surat-mail/surat/protocols/admin"
)

const domainUsage = `Usage:
  surat domain list [--server URL]              local domains, one a line
  surat domain add DOMAIN [--server URL]        add a domain, with new DKIM keys (Ed25519 and RSA-2048)
  surat domain del DOMAIN [--server URL]        remove a domain (refused while a user or alias of it exists)
  surat domain show DOMAIN [--server URL]       its settings and DKIM keys (selector, algorithm, date)
  surat domain records DOMAIN [--check] [--server URL]
                                                the DNS records to publish, as zone-file lines;
                                                --check: look each up with the node's --resolver and
                                                print one line per record missing or wrong (exit 1 if any)
  surat domain set DOMAIN [--dmarc-enforce=true|false] [--dmarc-policy=none|quarantine|reject]
                          [--mta-sts=off|testing|enforce] [--catch-all USER] [--plus-folders[=false]]
                          [--public-folders USER] [--server URL]
                                                change its settings
  surat domain rotate-key DOMAIN [--server URL] add a new Ed25519 and RSA key (new selectors)
  surat domain retire-key DOMAIN SELECTOR [--server URL]
                                                delete a key: the next one of its algorithm signs

--dmarc-enforce=false makes inbound DMARC report-only for the domain: results
are recorded in Authentication-Results, nothing is refused or sent to Junk.
--dmarc-policy is the p= that "records" prints for the domain's own DMARC
record (default reject). --mta-sts serves an MTA-STS policy (RFC 8461) for
the domain and prints its records. --catch-all USER delivers mail for
unknown local parts of the domain to USER (--catch-all "" stops it).
--plus-folders also files mail for user+tag@DOMAIN (which always reaches
user) into user's mailbox "tag" when it exists. --public-folders USER makes
the mailboxes of USER (a user of DOMAIN) the domain's public folders: its
other users see those they may look up (an IMAP "SETACL" by USER, e.g.
"anyone lr") under "Shared/" in IMAP, and Sieve's fileinto "Shared/NAME"
files there (with the p right); log in as USER to create them and grant the
rights (--public-folders "" stops it). Rotating: rotate-key, publish the new
records, wait for them to spread, then retire-key the old selectors.
`

func runDomain(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, domainUsage)
		if len(args) == 0 {
			return usagef("domain: missing subcommand (list, add, del, show, records, set, rotate-key, retire-key)")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "add", "del", "show", "records", "set", "rotate-key", "retire-key":
	default:
		return usagef("domain: unknown subcommand %q (list, add, del, show, records, set, rotate-key, retire-key)", sub)
	}
	fs, cf := newClientFlagSet("domain "+sub, false)
	var (
		check                          bool
		enforce, policy, mtaSts        string
		enforceSet, policySet, modeSet bool
		catchAll, publicFolders        *string
		plusFolders                    *bool
	)
	switch sub {
	case "records":
		fs.BoolVar(&check, "check", false, "check each record against the node's resolver")
	case "set":
		fs.Func("dmarc-enforce", "act on inbound DMARC failures (`true|false`; false: report only)", func(s string) error {
			enforce, enforceSet = s, true
			return nil
		})
		fs.Func("dmarc-policy", "the p= of the domain's DMARC record (`none|quarantine|reject`)", func(s string) error {
			policy, policySet = s, true
			return nil
		})
		fs.Func("mta-sts", "serve an MTA-STS policy (`off|testing|enforce`)", func(s string) error {
			mtaSts, modeSet = s, true
			return nil
		})
		fs.Func("catch-all", "deliver mail for unknown local parts to `USER` (\"\": none)", func(s string) error {
			catchAll = &s
			return nil
		})
		fs.Func("public-folders", "make `USER`'s mailboxes the domain's public folders, IMAP's Shared/ (\"\": none)", func(s string) error {
			publicFolders = &s
			return nil
		})
		fs.BoolFunc("plus-folders", "file user+tag@ mail into the user's mailbox tag (=false: not)", func(s string) error {
			b, err := strconv.ParseBool(s)
			plusFolders = &b
			return err
		})
	}
	pos, c, err := parseClientCommand(e, fs, cf, rest, domainUsage)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if err := wantArgs("domain list", pos); err != nil {
			return err
		}
		list, err := c.Domains(ctx)
		if err != nil {
			return fmt.Errorf("domain list: %w", err)
		}
		for _, d := range list {
			fmt.Fprintln(e.stdout, d)
		}
	case "add":
		if err := wantArgs("domain add", pos, "DOMAIN"); err != nil {
			return err
		}
		d, err := c.AddDomain(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("domain add %s: %w", pos[0], err)
		}
		printDomain(e, d)
	case "del":
		if err := wantArgs("domain del", pos, "DOMAIN"); err != nil {
			return err
		}
		if err := c.DeleteDomain(ctx, pos[0]); err != nil {
			return fmt.Errorf("domain del %s: %w", pos[0], err)
		}
	case "show":
		if err := wantArgs("domain show", pos, "DOMAIN"); err != nil {
			return err
		}
		d, err := c.Domain(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("domain show %s: %w", pos[0], err)
		}
		printDomain(e, d)
	case "records":
		if err := wantArgs("domain records", pos, "DOMAIN"); err != nil {
			return err
		}
		return domainRecords(ctx, e, c, pos[0], check)
	case "set":
		if err := wantArgs("domain set", pos, "DOMAIN"); err != nil {
			return err
		}
		var req admin.DomainSettingsRequest
		if enforceSet {
			b, err := strconv.ParseBool(enforce)
			if err != nil {
				return usagef("domain set: --dmarc-enforce %q: want true or false", enforce)
			}
			reportOnly := !b
			req.DMARCReportOnly = &reportOnly
		}
		if policySet {
			req.DMARCPolicy = &policy
		}
		if modeSet {
			req.MTASTS = &mtaSts
		}
		req.CatchAll, req.PlusFolders, req.PublicFolders = catchAll, plusFolders, publicFolders
		if !enforceSet && !policySet && !modeSet && catchAll == nil && plusFolders == nil && publicFolders == nil {
			return usagef("domain set: nothing to set (--dmarc-enforce, --dmarc-policy, --mta-sts, --catch-all, --plus-folders, --public-folders)")
		}
		d, err := c.SetDomainSettings(ctx, pos[0], req)
		if err != nil {
			return fmt.Errorf("domain set %s: %w", pos[0], err)
		}
		printDomain(e, d)
	case "rotate-key":
		if err := wantArgs("domain rotate-key", pos, "DOMAIN"); err != nil {
			return err
		}
		d, err := c.RotateDomainKeys(ctx, pos[0])
		if err != nil {
			return fmt.Errorf("domain rotate-key %s: %w", pos[0], err)
		}
		printDomain(e, d)
	case "retire-key":
		if err := wantArgs("domain retire-key", pos, "DOMAIN", "SELECTOR"); err != nil {
			return err
		}
		if err := c.RetireDomainKey(ctx, pos[0], pos[1]); err != nil {
			return fmt.Errorf("domain retire-key %s %s: %w", pos[0], pos[1], err)
		}
	}
	return nil
}

// printDomain prints a domain's facts, one "name value" a line, then one
// "dkim SELECTOR ALGORITHM DATE" line per key.
func printDomain(e *env, d admin.DomainResponse) {
	fmt.Fprintln(e.stdout, "domain", d.Domain)
	fmt.Fprintln(e.stdout, "dmarc-enforce", !d.DMARCReportOnly)
	fmt.Fprintln(e.stdout, "dmarc-policy", d.DMARCPolicy)
	fmt.Fprintln(e.stdout, "mta-sts", d.MTASTS)
	for _, k := range d.DkimKeys {
		fmt.Fprintln(e.stdout, "dkim", k.Selector, k.Algorithm, k.Created.Format("2006-01-02"))
	}
	// After the keys: scripts read the first key from line 5.
	if d.CatchAll != "" {
		fmt.Fprintln(e.stdout, "catch-all", d.CatchAll)
	}
	fmt.Fprintln(e.stdout, "plus-folders", d.PlusFolders)
	if d.PublicFolders != "" {
		fmt.Fprintln(e.stdout, "public-folders", d.PublicFolders)
	}
}

// domainRecords prints the records as zone-file lines; with check, one
// line per problem after them ("; NAME TYPE: what"), comment lines so that
// the output stays a zone file, and a non-zero exit when there are any.
func domainRecords(ctx context.Context, e *env, c *admin.Client, domain string, check bool) error {
	rr, err := c.DomainRecords(ctx, domain, check)
	if err != nil {
		return fmt.Errorf("domain records %s: %w", domain, err)
	}
	for _, r := range rr.Records {
		fmt.Fprintln(e.stdout, r.Line)
	}
	if !check {
		return nil
	}
	for _, p := range rr.Problems {
		fmt.Fprintf(e.stdout, "; %s %s: %s\n", p.Name, p.Type, p.Problem)
	}
	if n := len(rr.Problems); n > 0 {
		return fmt.Errorf("domain records %s --check: %d of %d records missing or wrong", domain, n, len(rr.Records))
	}
	return nil
}
