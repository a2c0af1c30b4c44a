package wire

import (
	"testing"
	"unicode/utf8"
)

func TestMUTF7(t *testing.T) {
	for _, tc := range []struct{ utf8, mutf7 string }{
		{"INBOX", "INBOX"},
		{"a&b", "a&-b"},
		{"~peter/mail/台北/日本語", "~peter/mail/&U,BTFw-/&ZeVnLIqe-"}, // RFC 3501 §5.1.3
		{"Entwürfe", "Entw&APw-rfe"},
		{"😀", "&2D3eAA-"},
		{"ä ö", "&AOQ- &APY-"},
	} {
		if got := EncodeMUTF7(tc.utf8); got != tc.mutf7 {
			t.Errorf("encode %q: got %q want %q", tc.utf8, got, tc.mutf7)
		}
		if got, err := DecodeMUTF7(tc.mutf7); err != nil || got != tc.utf8 {
			t.Errorf("decode %q: got %q %v want %q", tc.mutf7, got, err, tc.utf8)
		}
	}
	for _, bad := range []string{"&", "&abc", "&-&", "&AGE-", "&U,BTFw-&ZeVnLIqe-", "&Jjo!-", "&2D0-", "&3gA-", "a\x01", "\xff", "&AOQ", "&AOR-"} {
		if got, err := DecodeMUTF7(bad); err == nil {
			t.Errorf("decode %q: accepted as %q", bad, got)
		}
	}
	// UTF-8 sent without UTF8=ACCEPT passes through.
	if got, err := DecodeMUTF7("Entwürfe"); err != nil || got != "Entwürfe" {
		t.Errorf("raw UTF-8: %q %v", got, err)
	}
}

func TestMailboxDecoding(t *testing.T) {
	d := newTestDecoder("t SELECT inbox \"Entw&APw-rfe\" Entw&APw-rfe/*%\r\n")
	_, _, _ = d.Begin()
	_ = d.SP()
	if m, err := d.Mailbox(); err != nil || m != "INBOX" {
		t.Errorf("inbox: %q %v", m, err)
	}
	_ = d.SP()
	if m, err := d.Mailbox(); err != nil || m != "Entwürfe" {
		t.Errorf("mutf7: %q %v", m, err)
	}
	_ = d.SP()
	if m, err := d.ListMailbox(); err != nil || m != "Entwürfe/*%" {
		t.Errorf("pattern: %q %v", m, err)
	}
	// A name no mailbox can have is NO [CANNOT], not BAD.
	d = begin(t, "t SELECT !#$&'+,-.0123456789:;<=>?@^_`|[}\r\n")
	_ = d.SP()
	if _, err := d.Mailbox(); err == nil {
		t.Error("invalid modified UTF-7 accepted")
	} else if se, ok := IsSyntax(err); !ok || !se.No || se.Code != "CANNOT" {
		t.Errorf("invalid name: %v", err)
	}
	d = newTestDecoder("t SELECT \"a&b\"\r\n")
	d.UTF8Accept = true
	_, _, _ = d.Begin()
	_ = d.SP()
	if m, err := d.Mailbox(); err != nil || m != "a&b" {
		t.Errorf("utf8 accept: %q %v", m, err)
	}
}

func FuzzMUTF7(f *testing.F) {
	for _, s := range []string{"a&-b", "&U,BTFw-", "Entwürfe", "&2D3eAA-", "&", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		dec, err := DecodeMUTF7(s)
		if err == nil {
			// A canonical name encodes back to itself (UTF-8 passed
			// through is encoded, so compare decoded forms).
			again, err := DecodeMUTF7(EncodeMUTF7(dec))
			if err != nil || again != dec {
				t.Fatalf("%q → %q → %q (%v)", s, dec, again, err)
			}
		}
		if utf8.ValidString(s) {
			back, err := DecodeMUTF7(EncodeMUTF7(s))
			if err == nil && back != s {
				t.Fatalf("round trip %q → %q", s, back)
			}
		}
	})
}
