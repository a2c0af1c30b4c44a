package dnsbl

import (
	"net/netip"
	"strings"
	"testing"
)

// FuzzParseZones: whatever --dnsbl holds, the zones accepted make names
// the resolver takes, and parsing them again gives the same zones.
func FuzzParseZones(f *testing.F) {
	for _, s := range []string{"", "zen.spamhaus.org", "a.b,c.d", " X.Y. ", "bl..test", "a,,b", "ä.test"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		zones, err := ParseZones(s)
		if err != nil {
			return
		}
		again, err := ParseZones(strings.Join(zones, ","))
		if err != nil || strings.Join(again, ",") != strings.Join(zones, ",") {
			t.Fatalf("%q: parsed %q, again %q (%v)", s, zones, again, err)
		}
		for _, z := range zones {
			name := ReverseName(netip.MustParseAddr("2001:db8::1"), z)
			if len(name) > 253 {
				t.Fatalf("zone %q makes a name of %d octets", z, len(name))
			}
		}
	})
}

// FuzzReplyText: a list's TXT record never breaks the reply line.
func FuzzReplyText(f *testing.F) {
	for _, s := range []string{"", "listed", "a\r\nb", "x\x00", strings.Repeat("y", 300)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, reason string) {
		text := ReplyText(netip.MustParseAddr("192.0.2.1"), Listing{Zone: "bl.test", Reason: reason})
		if len(text) > 300 || strings.ContainsAny(text, "\r\n\x00") || !strings.Contains(text, "bl.test") {
			t.Fatalf("reply text %q", text)
		}
	})
}
