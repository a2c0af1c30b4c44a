package managesieve

import (
	"strings"
	"testing"
)

// RFC 5804 §1.7: the greeting is the capability list; STARTTLS is offered
// and SASL is empty before TLS; after STARTTLS (§2.2) the capabilities are
// re-issued without STARTTLS and with SASL PLAIN.
func TestCapabilitiesBeforeAndAfterTLS(t *testing.T) {
	ts := startServer(t, nil)
	c, greeting := dial(t, ts.addr)
	before := caps(greeting)
	for name, want := range map[string]string{
		"IMPLEMENTATION": "Surat", "SASL": "", "SIEVE": "fileinto vacation envelope",
		"STARTTLS": "", "MAXREDIRECTS": "4", "VERSION": "1.0", "UNAUTHENTICATE": "",
	} {
		got, ok := before[name]
		if !ok || got != want {
			t.Errorf("greeting %s = %q (present %v), want %q", name, got, ok, want)
		}
	}
	if _, ok := before["NOTIFY"]; ok {
		t.Error("NOTIFY advertised without enotify")
	}
	after := caps(c.starttls())
	if _, ok := after["STARTTLS"]; ok {
		t.Error("STARTTLS still advertised under TLS")
	}
	if after["SASL"] != "PLAIN" {
		t.Errorf("SASL after STARTTLS = %q, want PLAIN", after["SASL"])
	}
	if after["SIEVE"] != before["SIEVE"] {
		t.Errorf("SIEVE changed: %q then %q", before["SIEVE"], after["SIEVE"])
	}
	if r := c.cmd("STARTTLS"); r.status != "NO" {
		t.Errorf("second STARTTLS: %v", r)
	}
	if r := c.cmd(`AUTHENTICATE "PLAIN" ` + quote(plain(testUser, testPassword))); r.status != "OK" {
		t.Fatalf("AUTHENTICATE: %v", r)
	}
	r := c.cmd("CAPABILITY")
	if r.status != "OK" {
		t.Fatalf("CAPABILITY: %v", r)
	}
	logged := caps(r)
	if _, ok := logged["SASL"]; ok {
		t.Error("SASL advertised after login")
	}
	if !strings.Contains(logged["SIEVE"], "vacation") {
		t.Errorf("SIEVE after login = %q", logged["SIEVE"])
	}
}

// RFC 5804 §1.7: NOTIFY lists the methods when enotify is an extension.
func TestCapabilityNotifyWithEnotify(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Extensions = []string{"enotify", "fileinto"} })
	_, greeting := dial(t, ts.addr)
	if got := caps(greeting)["NOTIFY"]; got != "mailto" {
		t.Errorf("NOTIFY = %q, want mailto", got)
	}
}

// RFC 5804 §2.15: NOOP with a tag answers it in a TAG response code.
func TestNoopTag(t *testing.T) {
	ts := startServer(t, nil)
	c, _ := dial(t, ts.addr)
	if r := c.cmd(`NOOP "STARTTLS-SYNC-42"`); r.status != "OK" || r.code != `TAG STARTTLS-SYNC-42` {
		t.Errorf("NOOP tag: %v", r)
	}
	if r := c.cmd("noop"); r.status != "OK" {
		t.Errorf("NOOP: %v", r)
	}
	if r := c.cmd("LOGOUT"); r.status != "OK" {
		t.Errorf("LOGOUT: %v", r)
	}
	if r := c.read(); r.status != "EOF" {
		t.Errorf("after LOGOUT: %v", r)
	}
}
