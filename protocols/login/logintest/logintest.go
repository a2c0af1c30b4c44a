// Package logintest builds login paths for the protocols' tests.
package logintest

import (
	"testing"

	"github.com/surat-mail/surat/protocols/login"
)

// New is login.New over dir with cfg's other settings; it ends the test on
// an error.
func New(tb testing.TB, dir login.Directory, cfg login.Config) *login.Authenticator {
	tb.Helper()
	cfg.Directory = dir
	a, err := login.New(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return a
}
