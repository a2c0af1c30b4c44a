package pop3

import (
	"encoding/base64"
	"slices"
	"strings"
	"testing"
)

// TestSTLSRules: before TLS, CAPA offers STLS and USER but no SASL, and
// USER, PASS and AUTH are refused (RFC 2595 §4); after STLS, CAPA offers
// SASL PLAIN and no STLS, and login works.
func TestSTLSRules(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "stls", password)
	_, addr := c.serve(t, c.Nodes[0], nil)
	cl := dial(t, addr)
	_, caps := cl.mustMulti("CAPA")
	for _, want := range []string{"STLS", "USER", "UIDL", "TOP"} { // docs/OPERATING.md
		if !slices.Contains(caps, want) {
			t.Errorf("CAPA before TLS lacks %s: %q", want, caps)
		}
	}
	if slices.ContainsFunc(caps, func(s string) bool { return strings.HasPrefix(s, "SASL") }) {
		t.Errorf("CAPA before TLS offers SASL: %q", caps)
	}
	for _, cmd := range []string{"USER " + user, "PASS " + password, "AUTH PLAIN " + plain("", user, password), "AUTH"} {
		if got := cl.cmd(cmd); !strings.HasPrefix(got, "-ERR [AUTH]") {
			t.Fatalf("%s before TLS: %q", cmd, got)
		}
	}
	cl.stls()
	_, caps = cl.mustMulti("CAPA")
	if slices.Contains(caps, "STLS") || !slices.Contains(caps, "SASL PLAIN") || !slices.Contains(caps, "USER") {
		t.Fatalf("CAPA after STLS: %q", caps)
	}
	cl.must("USER " + user)
	cl.must("PASS " + password)
	cl.must("STAT")
}

// TestSTLSDiscardsPipelinedPlaintext: commands sent in the same packet as
// STLS are not executed under TLS (CVE-2011-0411).
func TestSTLSDiscardsPipelinedPlaintext(t *testing.T) {
	c := sharedCluster(t)
	_, addr := c.serve(t, c.Nodes[0], nil)
	cl := dial(t, addr)
	cl.send("STLS\r\nCAPA")
	if got := cl.line(); got != "+OK Begin TLS negotiation" {
		t.Fatalf("STLS: %q", got)
	}
	// The handshake fails or the injected CAPA is ignored; either way the
	// client never sees a CAPA reply it did not send under TLS.
	tc := tlsClient(cl.conn)
	if err := tc.Handshake(); err != nil {
		return
	}
	cl.conn, cl.r = tc, newReader(tc)
	if got := cl.cmd("NOOP"); got != "-ERR Command not valid in this state" {
		t.Fatalf("first reply under TLS: %q (the plaintext CAPA was executed?)", got)
	}
}

// TestImplicitTLS: --pop3s speaks TLS at once and offers no STLS.
func TestImplicitTLS(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "pop3s", password)
	c.Deliver(t, user, message("tls"))
	_, addr := c.serve(t, c.Nodes[0], func(cfg *Config) { cfg.ImplicitTLS = true })
	cl := dialTLS(t, addr)
	_, caps := cl.mustMulti("CAPA")
	if slices.Contains(caps, "STLS") || !slices.Contains(caps, "SASL PLAIN") {
		t.Fatalf("CAPA on pop3s: %q", caps)
	}
	if got := cl.cmd("STLS"); got != "-ERR Already under TLS" {
		t.Fatalf("STLS on pop3s: %q", got)
	}
	cl.must("USER " + user)
	cl.must("PASS " + password)
	if got := cl.must("STAT"); !strings.HasPrefix(got, "+OK 1 ") {
		t.Fatalf("STAT: %q", got)
	}
}

func plain(authz, authc, pass string) string {
	return base64.StdEncoding.EncodeToString([]byte(authz + "\x00" + authc + "\x00" + pass))
}

// TestAuthPlain: RFC 5034 AUTH PLAIN with an initial response, without one
// (a "+ " continuation), cancelled, malformed and with a foreign authzid.
func TestAuthPlain(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "plain", password)
	other := c.NewUser(t, "plainother", password)
	_, addr := c.serve(t, c.Nodes[0], nil)

	t.Run("initial response", func(t *testing.T) {
		cl := dial(t, addr)
		cl.stls()
		if got := cl.cmd("AUTH PLAIN " + plain("", user, password)); !strings.HasPrefix(got, "+OK") {
			t.Fatalf("AUTH PLAIN: %q", got)
		}
		cl.must("STAT")
	})
	t.Run("continuation", func(t *testing.T) {
		cl := dial(t, addr)
		cl.stls()
		if got := cl.cmd("AUTH PLAIN"); got != "+ " {
			t.Fatalf("AUTH PLAIN: %q, want \"+ \"", got)
		}
		if got := cl.cmd(plain(user, user, password)); !strings.HasPrefix(got, "+OK") {
			t.Fatalf("response: %q", got)
		}
		cl.must("STAT")
	})
	t.Run("refusals", func(t *testing.T) {
		cl := dial(t, addr)
		cl.stls()
		_, mechs := cl.mustMulti("AUTH")
		if !slices.Equal(mechs, []string{"PLAIN"}) {
			t.Fatalf("AUTH list: %q", mechs)
		}
		for _, tc := range []struct{ cmd, want string }{
			{"AUTH CRAM-MD5", "-ERR Unrecognized authentication mechanism"},
			{"AUTH PLAIN !!!", "-ERR Invalid base64 in SASL response"},
			{"AUTH PLAIN =", "-ERR [AUTH] Authentication failed"},
			{"AUTH PLAIN " + plain(other, user, password), "-ERR [AUTH] Authentication failed"},
			// The third failure on one connection closes it.
			{"AUTH PLAIN " + plain("", user, "wrong"), "-ERR [AUTH] Too many failed logins, closing connection"},
		} {
			if got := cl.cmd(tc.cmd); got != tc.want {
				t.Fatalf("%s: %q, want %q", tc.cmd, got, tc.want)
			}
		}
		cl = dial(t, addr)
		cl.stls()
		if got := cl.cmd("AUTH PLAIN"); got != "+ " {
			t.Fatalf("AUTH PLAIN: %q", got)
		}
		if got := cl.cmd("*"); got != "-ERR Authentication cancelled" {
			t.Fatalf("cancel: %q", got)
		}
	})
}
