//go:build !linux

package main

import (
	"errors"
	"os"
)

// Prompting without echo is implemented for Linux only; elsewhere use
// --password-stdin.
func isTerminal(*os.File) bool { return false }

func disableEcho(*os.File) (func(), error) {
	return nil, errors.New("not supported on this platform: use --password-stdin")
}
