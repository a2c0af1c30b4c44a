package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/surat-mail/surat/protocols/admin"
	"github.com/surat-mail/surat/protocols/spam/bayes"
	"github.com/surat-mail/surat/protocols/spam/mbox"
)

const spamUsage = `Usage:
  surat spam train [--user EMAIL] (--spam PATH | --ham PATH)... [--server URL]
  surat spam status [--user EMAIL] [--server URL]

train teaches the built-in spam classifier: the global model, or with
--user that user's own. PATH is an mbox file (mboxo or mboxrd, as mail
clients and Python's mailbox write them), a single message, or a directory
of .eml files (without .eml files: every regular file in it). --spam and
--ham may each be given several times. It prints how many messages it
trained. Users train their own models by moving messages into and out of
Junk.

status prints, for each model (the global one first), the messages trained
as spam and as ham, the distinct tokens it holds and its estimated size.
`

// pathList is a repeatable flag.
type pathList []string

func (p *pathList) String() string     { return strings.Join(*p, ",") }
func (p *pathList) Set(v string) error { *p = append(*p, v); return nil }

func runSpam(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(e.stdout, spamUsage)
		if len(args) == 0 {
			return usagef("spam: missing subcommand (train, status)")
		}
		return errHelp
	}
	sub, rest := args[0], args[1:]
	switch sub {
	case "train", "status":
	default:
		return usagef("spam: unknown subcommand %q (train, status)", sub)
	}
	fs, cf := newClientFlagSet("spam "+sub, false)
	user := fs.String("user", "", "train or show this user's model (`EMAIL`) instead of the global one")
	var spamPaths, hamPaths pathList
	if sub == "train" {
		fs.Var(&spamPaths, "spam", "an mbox file or a directory of .eml files to train as spam (`PATH`; repeatable)")
		fs.Var(&hamPaths, "ham", "an mbox file or a directory of .eml files to train as ham (`PATH`; repeatable)")
	}
	pos, c, err := parseClientCommand(e, fs, cf, rest, spamUsage)
	if err != nil {
		return err
	}
	if err := wantArgs("spam "+sub, pos); err != nil {
		return err
	}
	if sub == "status" {
		models, err := c.SpamStatus(ctx, *user)
		if err != nil {
			return fmt.Errorf("spam status: %w", err)
		}
		for _, m := range models {
			fmt.Fprintln(e.stdout, spamModelLine(m))
		}
		return nil
	}
	if len(spamPaths)+len(hamPaths) == 0 {
		return usagef("spam train: give --spam PATH or --ham PATH")
	}
	var trained [2]int
	for i, paths := range []pathList{spamPaths, hamPaths} {
		for _, p := range paths {
			n, err := trainPath(ctx, c, *user, i == 0, p)
			trained[i] += n
			if err != nil {
				return fmt.Errorf("spam train: %s: %w (%d spam and %d ham messages trained before)", p, err, trained[0], trained[1])
			}
		}
	}
	model := "the global model"
	if *user != "" {
		model = *user + "'s model"
	}
	fmt.Fprintf(e.stdout, "trained %d spam and %d ham messages into %s\n", trained[0], trained[1], model)
	return nil
}

// trainPath sends the messages found at path, in requests of at most
// admin.SpamTrainBatchBytes, each message cut to what the tokenizer reads.
func trainPath(ctx context.Context, c *admin.Client, user string, spam bool, path string) (int, error) {
	var batch [][]byte
	size, done := 0, 0
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		n, err := c.SpamTrain(ctx, user, spam, batch)
		done += n
		batch, size = nil, 0
		return err
	}
	err := mbox.Walk(path, func(_ string, msg []byte) error {
		if len(msg) > bayes.MaxInput {
			msg = msg[:bayes.MaxInput]
		}
		if size+len(msg) > admin.SpamTrainBatchBytes {
			if err := flush(); err != nil {
				return err
			}
		}
		batch, size = append(batch, msg), size+len(msg)
		return nil
	})
	if err == nil {
		err = flush()
	}
	return done, err
}

// spamModelLine is one model as spam status prints it.
func spamModelLine(m admin.SpamModel) string {
	name := m.User
	if name == "" {
		name = "global"
	}
	return fmt.Sprintf("%s spam=%d ham=%d tokens=%d bytes=%d", name, m.Spam, m.Ham, m.Tokens, m.Bytes)
}
