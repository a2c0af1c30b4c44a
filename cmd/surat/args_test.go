package main

import (
	"errors"
	"slices"
	"testing"
)

func TestParseInterleaved(t *testing.T) {
	tests := []struct {
		args      []string
		wantPos   []string
		wantSrv   string
		wantStdin bool
		wantErr   bool
	}{
		{[]string{"a@x.test", "--password-stdin", "--server", "http://h:1"}, []string{"a@x.test"}, "http://h:1", true, false},
		{[]string{"--server=http://h:1", "a@x.test"}, []string{"a@x.test"}, "http://h:1", false, false},
		{[]string{"a@x.test", "--server", "http://h:1", "b", "--password-stdin"}, []string{"a@x.test", "b"}, "http://h:1", true, false},
		{[]string{"--", "--password-stdin"}, []string{"--password-stdin"}, defaultServer, false, false},
		{[]string{"a", "--", "-b"}, []string{"a", "-b"}, defaultServer, false, false},
		{[]string{}, nil, defaultServer, false, false},
		{[]string{"a", "--server"}, nil, "", false, true},
		{[]string{"a", "--bogus"}, nil, "", false, true},
	}
	for _, tc := range tests {
		fs, cf := newClientFlagSet("user add", true)
		pos, err := parseInterleaved(fs, tc.args)
		if tc.wantErr {
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Errorf("%v: err %v, want a usage error", tc.args, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%v: %v", tc.args, err)
			continue
		}
		if !slices.Equal(pos, tc.wantPos) || *cf.server != tc.wantSrv || *cf.passwordStdin != tc.wantStdin {
			t.Errorf("%v: pos %v server %q stdin %v", tc.args, pos, *cf.server, *cf.passwordStdin)
		}
	}
	fs, _ := newClientFlagSet("user list", false)
	if _, err := parseInterleaved(fs, []string{"--help"}); !errors.Is(err, errHelp) {
		t.Errorf("--help: %v", err)
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]uint64{"0": 0, "1024": 1024, "1K": 1024, "2m": 2 << 20, "1G": 1 << 30, "3GiB": 3 << 30, "1T": 1 << 40} {
		if got, err := parseSize(in); err != nil || got != want {
			t.Errorf("parseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "1X", "K", "99999999999T"} {
		if _, err := parseSize(in); err == nil {
			t.Errorf("parseSize(%q) accepted", in)
		}
	}
}

func TestFirstLine(t *testing.T) {
	for in, want := range map[string]string{"pw\n": "pw", "pw\r\n": "pw", "pw": "pw", "pw\nsecond\n": "pw", " p w \n": " p w "} {
		if got, err := firstLine(stringsReader(in)); err != nil || got != want {
			t.Errorf("firstLine(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"", "\n", "\r\n"} {
		if _, err := firstLine(stringsReader(in)); err == nil {
			t.Errorf("firstLine(%q) accepted", in)
		}
	}
}
