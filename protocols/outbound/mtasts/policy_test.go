package mtasts

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	good := "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n"
	p, err := Parse([]byte(good))
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != Enforce || p.MaxAge != 24*time.Hour || !slices.Equal(p.MX, []string{"mail.example.com", "*.example.net"}) {
		t.Fatalf("parsed %+v", p)
	}
	if len(p.Text) != 5 || p.Text[0] != "version: STSv1" {
		t.Fatalf("text %q", p.Text)
	}
	for _, tc := range []struct {
		name, in string
		ok       bool
	}{
		{"LF line endings", "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1\n", true},
		{"no final newline", "version: STSv1\nmode: testing\nmx: a.example\nmax_age: 1", true},
		{"spaces around value", "version:STSv1\nmode:\ttesting \nmx: a.example\nmax_age:  1\n", true},
		{"unknown key ignored (§3.2 extensions)", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\nfoo: bar\n", true},
		{"mode none needs no mx", "version: STSv1\nmode: none\nmax_age: 1\n", true},
		{"max max_age", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557600\n", true},
		{"upper-case mx folded", "version: STSv1\nmode: enforce\nmx: A.Example.\nmax_age: 1\n", true},

		{"empty", "", false},
		{"no version", "mode: enforce\nmx: a.example\nmax_age: 1\n", false},
		{"wrong version", "version: STSv2\nmode: enforce\nmx: a.example\nmax_age: 1\n", false},
		{"no mode", "version: STSv1\nmx: a.example\nmax_age: 1\n", false},
		{"bad mode", "version: STSv1\nmode: strict\nmx: a.example\nmax_age: 1\n", false},
		{"mode twice", "version: STSv1\nmode: enforce\nmode: testing\nmx: a.example\nmax_age: 1\n", false},
		{"no max_age", "version: STSv1\nmode: enforce\nmx: a.example\n", false},
		{"max_age too large", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 31557601\n", false},
		{"max_age negative", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: -1\n", false},
		{"max_age eleven digits", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 00000000001\n", false},
		{"enforce without mx", "version: STSv1\nmode: enforce\nmax_age: 1\n", false},
		{"line without colon", "version: STSv1\nmode enforce\nmx: a.example\nmax_age: 1\n", false},
		{"bad mx", "version: STSv1\nmode: enforce\nmx: a..example\nmax_age: 1\n", false},
		{"wildcard in the middle", "version: STSv1\nmode: enforce\nmx: a.*.example\nmax_age: 1\n", false},
		{"too large", "version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n" + strings.Repeat("x: y\n", MaxPolicySize/5+1), false},
	} {
		_, err := Parse([]byte(tc.in))
		if (err == nil) != tc.ok {
			t.Errorf("%s: err = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
}

// RFC 8461 §4.1: a wildcard matches exactly one label.
func TestMatches(t *testing.T) {
	p := &Policy{MX: []string{"mail.example.com", "*.example.net"}}
	for host, want := range map[string]bool{
		"mail.example.com":  true,
		"MAIL.example.com.": true,
		"mx.example.com":    false,
		"mx1.example.net":   true,
		"example.net":       false,
		"a.b.example.net":   false,
		".example.net":      false,
		"xexample.net":      false,
	} {
		if got := p.Matches(host); got != want {
			t.Errorf("%q: %v, want %v", host, got, want)
		}
	}
}

func TestParseRecord(t *testing.T) {
	for in, id := range map[string]string{
		"v=STSv1; id=20160831085700Z;": "20160831085700Z",
		"v=STSv1;id=abc":               "abc",
		"v=STSv1; id=abc; ext=1":       "abc",
	} {
		r, err := ParseRecord(in)
		if err != nil || r.ID != id {
			t.Errorf("%q: %+v, %v", in, r, err)
		}
	}
	for _, in := range []string{
		"", "v=STSv2; id=1", "id=1; v=STSv1", "v=STSv1", "v=STSv1; id=", "v=STSv1; id=a-b",
		"v=STSv1; id=" + strings.Repeat("a", 33), "v=STSv1; id=1; id=2", "v=STSv1; id",
	} {
		if r, err := ParseRecord(in); err == nil {
			t.Errorf("%q accepted: %+v", in, r)
		}
	}
}

func TestFormatParses(t *testing.T) {
	b := Format(Testing, []string{"mx1.example.test", "mx2.example.test"}, 7*24*time.Hour)
	p, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if p.Mode != Testing || p.MaxAge != 7*24*time.Hour || len(p.MX) != 2 || !strings.HasSuffix(string(b), "\r\n") {
		t.Fatalf("%q → %+v", b, p)
	}
}
