package main

import (
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/auth"
)

// TestCLIUserAddPasswordHash: user add --password-hash imports a hash, from
// the flag or ("-") from stdin; unsupported hashes and a hash with
// --password-stdin are refused.
func TestCLIUserAddPasswordHash(t *testing.T) {
	f, url := startAdmin(t, "")
	hash, err := auth.HashWith(auth.Params{MemoryKiB: 8, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, "pw")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string // substring of the one stderr line when code != 0
	}{
		{"flag", "", []string{"user", "add", "a@example.test", "--password-hash", hash, "--server", url}, 0, ""},
		{"stdin", hash + "\n", []string{"user", "add", "b@example.test", "--password-hash", "-", "--server", url}, 0, ""},
		{"unsupported", "", []string{"user", "add", "c@example.test", "--password-hash", "{PLAIN}pw", "--server", url}, 1, "unsupported password hash"},
		{"with --password-stdin", "pw\n", []string{"user", "add", "d@example.test", "--password-hash", hash, "--password-stdin", "--server", url}, 2, "exclude each other"},
		{"empty stdin", "", []string{"user", "add", "e@example.test", "--password-hash", "-", "--server", url}, 1, "empty"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := runCLI(t, nil, tc.stdin, tc.args...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d: %+v", r.code, tc.code, r)
			}
			if tc.code != 0 {
				if line := oneLineErr(t, r); !strings.Contains(line, tc.want) {
					t.Errorf("stderr %q lacks %q", line, tc.want)
				}
				return
			}
			f.mu.Lock()
			_, ok := f.users[tc.args[2]]
			f.mu.Unlock()
			if !ok {
				t.Errorf("%s was not created", tc.args[2])
			}
		})
	}
}
