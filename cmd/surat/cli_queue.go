package main

import (
	"context"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/surat-mail/surat/protocols/admin"
)

const queueUsage = `Usage:
  surat queue list [--server URL]         the outbound queue: id, sender, recipients, attempts, next attempt, last reply
  surat queue retry ID [--server URL]     try an entry again now
  surat queue delete ID [--server URL]    drop an entry without a bounce
`

func runQueue(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, queueUsage)
		if len(args) == 0 {
			return usagef("queue: missing subcommand (list, retry, delete)")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "list", "retry", "delete":
	default:
		return usagef("queue: unknown subcommand %q (list, retry, delete)", sub)
	}
	fs, cf := newClientFlagSet("queue "+sub, false)
	pos, c, err := parseClientCommand(e, fs, cf, rest, queueUsage)
	if err != nil {
		return err
	}
	switch sub {
	case "list":
		if err := wantArgs("queue list", pos); err != nil {
			return err
		}
		entries, err := c.Queue(ctx)
		if err != nil {
			return fmt.Errorf("queue list: %w", err)
		}
		writeQueue(e, entries)
	case "retry":
		if err := wantArgs("queue retry", pos, "ID"); err != nil {
			return err
		}
		if err := c.RetryQueue(ctx, pos[0]); err != nil {
			return fmt.Errorf("queue retry %s: %w", pos[0], err)
		}
	case "delete":
		if err := wantArgs("queue delete", pos, "ID"); err != nil {
			return err
		}
		if err := c.DeleteQueue(ctx, pos[0]); err != nil {
			return fmt.Errorf("queue delete %s: %w", pos[0], err)
		}
	}
	return nil
}

// writeQueue prints one line per entry; pending recipients only, with the
// others counted.
func writeQueue(e *env, entries []admin.QueueEntry) {
	if len(entries) == 0 {
		fmt.Fprintln(e.stdout, "queue is empty")
		return
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tFROM\tRECIPIENTS\tSIZE\tATTEMPTS\tNEXT ATTEMPT\tLAST REPLY")
	for _, q := range entries {
		var pending []string
		done := 0
		for _, r := range q.Recipients {
			if r.State == "pending" {
				pending = append(pending, r.Address)
			} else {
				done++
			}
		}
		rcpts := strings.Join(pending, ",")
		if done > 0 {
			rcpts += fmt.Sprintf(" (+%d done)", done)
		}
		from := q.From
		if from == "" {
			from = "<>"
		}
		reply := q.LastReply
		if len(reply) > 80 {
			reply = reply[:77] + "..."
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%d\t%s\t%s\n", q.ID, from, rcpts, q.Size, q.Attempts,
			q.NextAttempt.Local().Format(time.DateTime), reply)
	}
	tw.Flush()
}
