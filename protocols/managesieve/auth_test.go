package managesieve

import (
	"testing"
)

// RFC 5804 §2.1: AUTHENTICATE before STARTTLS is refused with a final NO
// (ENCRYPT-NEEDED), never continued with a challenge (acceptance J1).
func TestAuthenticateRefusedBeforeTLS(t *testing.T) {
	ts := startServer(t, nil)
	c, _ := dial(t, ts.addr)
	r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(testUser, testPassword)))
	if r.status != "NO" || r.code != "ENCRYPT-NEEDED" {
		t.Fatalf("AUTHENTICATE before TLS: %v", r)
	}
	if r := c.cmd("LISTSCRIPTS"); r.status != "NO" {
		t.Errorf("LISTSCRIPTS before login: %v", r)
	}
	if r := c.cmd("PUTSCRIPT \"a\" " + lit("keep;")); r.status != "NO" {
		t.Errorf("PUTSCRIPT before login: %v", r)
	}
}

// RFC 5804 §2.1: PLAIN with an initial response, and without one (an
// empty challenge, answered with a string; a literal works too).
func TestAuthenticatePlain(t *testing.T) {
	ts := startServer(t, nil)
	for _, tc := range []struct {
		name string
		run  func(c *client) response
	}{
		{"initial response", func(c *client) response {
			return c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(testUser, testPassword)))
		}},
		{"initial response as literal", func(c *client) response {
			return c.cmd(`AUTHENTICATE "PLAIN" ` + lit(plain(testUser, testPassword)))
		}},
		{"challenge", func(c *client) response {
			c.send("AUTHENTICATE \"plain\"\r\n")
			if toks, err := c.tokens(); err != nil || len(toks) != 1 || toks[0] != "" {
				t.Fatalf("challenge: %q %v", toks, err)
			}
			return c.cmd(quote(plain(testUser, testPassword)))
		}},
		{"challenge answered with a literal", func(c *client) response {
			c.send("AUTHENTICATE \"PLAIN\"\r\n")
			if _, err := c.tokens(); err != nil {
				t.Fatal(err)
			}
			return c.cmd(lit(plain(testUser, testPassword)))
		}},
		{"authzid is the user", func(c *client) response {
			return c.cmd(`AUTHENTICATE "PLAIN" ` + quote(b64(testUser+"\x00"+testUser+"\x00"+testPassword)))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := dial(t, ts.addr)
			c.starttls()
			if r := tc.run(c); r.status != "OK" {
				t.Fatalf("AUTHENTICATE: %v", r)
			}
			if r := c.cmd("LISTSCRIPTS"); r.status != "OK" {
				t.Errorf("LISTSCRIPTS after login: %v", r)
			}
			if r := c.cmd("AUTHENTICATE \"PLAIN\" \"\""); r.status != "NO" {
				t.Errorf("second AUTHENTICATE: %v", r)
			}
		})
	}
}

// Failures: a wrong password is NO; a cancelled exchange is NO; another
// authzid is a failure; the third failure on a connection ends it with
// BYE (protocols/login's MaxFailuresPerConn).
func TestAuthenticateFailures(t *testing.T) {
	ts := startServer(t, nil)
	c, _ := dial(t, ts.addr)
	c.starttls()
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(testUser, "wrong"))); r.status != "NO" || r.code != "" {
		t.Fatalf("wrong password: %v", r)
	}
	c.send("AUTHENTICATE \"PLAIN\"\r\n")
	if _, err := c.tokens(); err != nil {
		t.Fatal(err)
	}
	if r := c.cmd(`"*"`); r.status != "NO" {
		t.Fatalf("cancel: %v", r)
	}
	if r := c.cmd(`AUTHENTICATE "LOGIN"`); r.status != "NO" {
		t.Fatalf("LOGIN mechanism: %v", r)
	}
	if r := c.cmd(`AUTHENTICATE "PLAIN" "not base64!"`); r.status != "NO" {
		t.Fatalf("bad base64: %v", r)
	}
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(b64("bob@example.test\x00"+testUser+"\x00"+testPassword))); r.status != "NO" {
		t.Fatalf("other authzid: %v", r)
	}
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain("nobody@example.test", testPassword))); r.status != "BYE" {
		t.Fatalf("third failure: %v", r)
	}
}

// RFC 5804 §2.14.1: UNAUTHENTICATE returns to the non-authenticated
// state under TLS; another user may then log in.
func TestUnauthenticate(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	if r := c.cmd("PUTSCRIPT \"mine\" " + lit("keep;\r\n")); r.status != "OK" {
		t.Fatalf("PUTSCRIPT: %v", r)
	}
	if r := c.cmd("UNAUTHENTICATE"); r.status != "OK" {
		t.Fatalf("UNAUTHENTICATE: %v", r)
	}
	if r := c.cmd("LISTSCRIPTS"); r.status != "NO" {
		t.Fatalf("LISTSCRIPTS after UNAUTHENTICATE: %v", r)
	}
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain("bob@example.test", testPassword))); r.status != "OK" {
		t.Fatalf("AUTHENTICATE as bob: %v", r)
	}
	if r := c.cmd("LISTSCRIPTS"); r.status != "OK" || len(r.lines) != 0 {
		t.Fatalf("bob sees %v: %v", r.lines, r)
	}
}
