// Command surat is the Surat mail server and its admin CLI.
//
// This package owns flags, the config file, wiring and the CLI's output; it
// must not hold logic worth testing elsewhere (docs/DESIGN.md): mail semantics
// live in mailbox/ and protocols/, Raft in cluster/. main stays thin so the
// rest can be tested with injected arguments, streams and environment.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	code := run(ctx, &env{
		args:   os.Args[1:],
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
	})
	stop()
	os.Exit(code)
}
