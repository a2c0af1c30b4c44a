package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
)

// newFlagSet is a flag set that neither prints nor exits: errors come back
// as one-line usageErrors and -h/--help as errHelp.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseCommand is parseInterleaved for one admin command: on -h or
// --help it prints usage and returns errHelp.
func parseCommand(e *env, fs *flag.FlagSet, args []string, usage string) ([]string, error) {
	pos, err := parseInterleaved(fs, args)
	if err == errHelp {
		fmt.Fprint(e.stdout, usage)
	}
	return pos, err
}

// parseInterleaved parses args allowing flags before, between and after
// positional arguments (the flag package stops at the first non-flag:
// "user add EMAIL --password-stdin --server URL" must work). A "--" ends
// flag parsing; everything after it is positional.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, errHelp
			}
			return nil, usagef("%s: %v (see surat %s --help)", fs.Name(), err, fs.Name())
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return positional, nil
		}
		consumed := len(args) - len(rest)
		if consumed > 0 && args[consumed-1] == "--" {
			return append(positional, rest...), nil
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
}

// wantArgs checks the number of positional arguments.
func wantArgs(cmd string, got []string, names ...string) error {
	if len(got) == len(names) {
		return nil
	}
	if len(got) < len(names) {
		return usagef("%s: missing %s", cmd, names[len(got)])
	}
	return usagef("%s: unexpected argument %q", cmd, got[len(names)])
}

// printUsage writes a flag set's usage to w, for --help.
func printUsage(w io.Writer, fs *flag.FlagSet, synopsis string) {
	fmt.Fprintf(w, "Usage: %s\n\nFlags:\n", synopsis)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}
