package dns

import (
	"testing"

	miekg "github.com/miekg/dns"
	"golang.org/x/net/dns/dnsmessage"
)

// FuzzTXTBytes: whatever bytes a TXT record holds on the wire, LookupTXT's
// decoding gives them back. The record is built by another implementation
// (x/net's dnsmessage), parsed by miekg/dns, and unescaped by unescapeTXT.
func FuzzTXTBytes(f *testing.F) {
	for _, s := range []string{"v=spf1 -all", `a\b"c`, "\x00\xff\\065", `\\\`, "\\123"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, text string) {
		if len(text) > 255 {
			text = text[:255]
		}
		b := dnsmessage.NewBuilder(nil, dnsmessage.Header{Response: true})
		if err := b.StartAnswers(); err != nil {
			t.Fatal(err)
		}
		err := b.TXTResource(dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName("x.test."), Class: dnsmessage.ClassINET, TTL: 60},
			dnsmessage.TXTResource{TXT: []string{text}})
		if err != nil {
			t.Fatal(err)
		}
		wire, err := b.Finish()
		if err != nil {
			t.Fatal(err)
		}
		var m miekg.Msg
		if err := m.Unpack(wire); err != nil {
			t.Fatalf("unpack: %v", err)
		}
		got := unescapeTXT(m.Answer[0].(*miekg.TXT).Txt[0])
		if got != text {
			t.Fatalf("TXT %q decoded as %q", text, got)
		}
	})
}

func TestUnescapeTXT(t *testing.T) {
	tests := map[string]string{
		"plain":     "plain",
		`a\"b`:      `a"b`,
		`a\\b`:      `a\b`,
		`\000\255`:  "\x00\xff",
		`\065BC`:    "ABC",
		`\256`:      "256", // not a byte: the backslash escapes '2'
		`trailing\`: `trailing\`,
		`\;`:        ";",
		`\06`:       "06",
	}
	for in, want := range tests {
		if got := unescapeTXT(in); got != want {
			t.Errorf("unescapeTXT(%q) = %q, want %q", in, got, want)
		}
	}
}
