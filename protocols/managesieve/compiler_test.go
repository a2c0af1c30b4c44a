package managesieve

import (
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/sieve"
)

// With the real compiler (protocols/sieve) as Check and its extension
// list as SIEVE: acceptance J1 and J2.
func TestWithSieveCompiler(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Check = func(src []byte) error { _, err := sieve.Compile(src, sieve.Options{}); return err }
		c.Extensions = sieve.Extensions()
	})
	c, _ := dial(t, ts.addr)
	after := caps(c.starttls())
	for _, ext := range []string{"fileinto", "vacation", "reject", "imap4flags"} {
		if !strings.Contains(" "+after["SIEVE"]+" ", " "+ext+" ") {
			t.Errorf("SIEVE %q lacks %s", after["SIEVE"], ext)
		}
	}
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(testUser, testPassword))); r.status != "OK" {
		t.Fatalf("AUTHENTICATE: %v", r)
	}
	bad := "require [\"fileinto\"];\r\nif header :contains \"Subject\" \"[proj]\" {\r\n    fileinto \"Projects\"\r\n"
	r := c.cmd(`PUTSCRIPT "bad" ` + lit(bad))
	if r.status != "NO" || !strings.Contains(r.text, "line") {
		t.Fatalf("PUTSCRIPT of a bad script: %v", r)
	}
	t.Logf("NO %q", r.text)
	if got := listed(t, c); len(got) != 0 {
		t.Fatalf("listed: %v", got)
	}
	if r := c.cmd(`PUTSCRIPT "unknown" ` + lit("require \"frobnicate\";\r\n")); r.status != "NO" {
		t.Fatalf("PUTSCRIPT requiring an unknown extension: %v", r)
	}
	good := "require [\"fileinto\", \"mailbox\"];\r\nif header :contains \"Subject\" \"[proj]\" {\r\n    fileinto :create \"Projects\";\r\n}\r\n"
	if r := c.cmd(`PUTSCRIPT "good" ` + lit(good)); r.status != "OK" {
		t.Fatalf("PUTSCRIPT: %v", r)
	}
	if r := c.cmd(`SETACTIVE "good"`); r.status != "OK" {
		t.Fatalf("SETACTIVE: %v", r)
	}
}
