package imap

import (
	"testing"
)

// textMessages are raw messages whose decoded text differs from their
// bytes in the ways textCannotMatch must allow for.
var textMessages = []string{
	"Subject: plain\r\n\r\nThe Zeppelin flies.\r\n",
	"Subject: qp\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nThe Zep=\r\npelin fl=69es.\r\n",
	"Subject: b64\r\nContent-Transfer-Encoding: base64\r\n\r\nVGhlIFplcHBlbGluIGZsaWVzLg==\r\n",
	"Subject: =?utf-8?q?Zep=70elin?=\r\n\r\nnothing here\r\n",
	"Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n" +
		"Content-Transfer-Encoding: Quoted-Printable\r\n\r\nzeppe=\r\nlin\r\n--b--\r\n",
	"Subject: kelvin\r\n\r\n\u212Aumquat\r\n",
	"no header at all, zeppelin",
	"Subject: a long\r\n subject\r\n\r\nbody\r\n",
}

func TestTextCannotMatch(t *testing.T) {
	for _, tc := range []struct {
		msg, pattern string
		body, text   bool // what matchEntity answers for BODY and TEXT
	}{
		{textMessages[0], "zeppelin", true, true},
		{textMessages[0], "ZEPPELIN", true, true},
		{textMessages[0], "airship", false, false},
		{textMessages[1], "zeppelin flies", true, true},
		{textMessages[2], "zeppelin", true, true},
		{textMessages[3], "zeppelin", false, true},
		{textMessages[4], "zeppelin", true, true},
		{textMessages[5], "kumquat", true, true},
		{textMessages[6], "zeppelin", true, true},
		{textMessages[0], "", true, true},
		{textMessages[7], "long subject", false, true},
	} {
		c := &candidate{body: []byte(tc.msg)}
		if got := matchEntity(c.body, tc.pattern, false); got != tc.body {
			t.Errorf("BODY %q in %q: %v, want %v", tc.pattern, tc.msg, got, tc.body)
		}
		if got := matchEntity(c.body, tc.pattern, true); got != tc.text {
			t.Errorf("TEXT %q in %q: %v, want %v", tc.pattern, tc.msg, got, tc.text)
		}
		if tc.body && c.textCannotMatch(tc.pattern, false) {
			t.Errorf("textCannotMatch(%q) skips %q for BODY, which matches", tc.pattern, tc.msg)
		}
		if tc.text && c.textCannotMatch(tc.pattern, true) {
			t.Errorf("textCannotMatch(%q) skips %q for TEXT, which matches", tc.pattern, tc.msg)
		}
		if !tc.body && !tc.text && tc.msg == textMessages[0] && !c.textCannotMatch(tc.pattern, true) {
			t.Errorf("textCannotMatch(%q) does not rule out a plain message without it", tc.pattern)
		}
	}
}

// FuzzTextCannotMatch: the quick test never rules out a message that
// BODY or TEXT matches.
func FuzzTextCannotMatch(f *testing.F) {
	for _, m := range textMessages {
		f.Add(m, "zeppelin")
	}
	f.Add("0:0\n 0", "0 ") // a folded header, unfolded by TEXT
	f.Add("0", "")         // the empty pattern
	f.Fuzz(func(t *testing.T, msg, pattern string) {
		if len(msg) > 1<<16 || len(pattern) > 64 {
			return
		}
		for _, text := range []bool{false, true} {
			c := &candidate{body: []byte(msg)}
			if c.textCannotMatch(pattern, text) && matchEntity(c.body, pattern, text) {
				t.Fatalf("textCannotMatch(%q, TEXT %v) ruled out %q, which matches", pattern, text, msg)
			}
		}
	})
}
