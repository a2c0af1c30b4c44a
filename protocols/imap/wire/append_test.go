package wire

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

// readAppend runs the APPEND steps over line and describes what it read.
func readAppend(t *testing.T, line string) (string, error) {
	t.Helper()
	d := begin(t, line)
	mbox, err := d.ReadAppendMailbox()
	if err != nil {
		return "", err
	}
	out := []string{mbox}
	data := func() error {
		r, err := d.AcceptLiteral()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(r)
		out = append(out, string(b))
		return err
	}
	for {
		m, err := d.NextAppendMessage()
		if err != nil {
			return strings.Join(out, "|"), err
		}
		if m == nil {
			break
		}
		desc := ""
		if m.Flags != nil {
			desc += "flags:" + strings.Join(flagStrings(m.Flags), ",") + " "
		}
		if !m.Time.IsZero() {
			desc += "time:" + m.Time.UTC().Format(time.RFC3339) + " "
		}
		if m.Literal.Binary {
			desc += "bin "
		}
		if m.UTF8 {
			desc += "utf8 "
		}
		out = append(out, strings.TrimSpace(desc))
		if !m.Catenate {
			if err := data(); err != nil {
				return strings.Join(out, "|"), err
			}
			continue
		}
		for {
			p, err := d.NextCatenatePart()
			if err != nil {
				return strings.Join(out, "|"), err
			}
			if p == nil {
				break
			}
			if p.Text {
				if err := data(); err != nil {
					return strings.Join(out, "|"), err
				}
			} else {
				out = append(out, "url:"+p.URL)
			}
		}
	}
	if d.InCommand() {
		t.Errorf("%q: command not ended", line)
	}
	return strings.Join(out, "|"), nil
}

func flagStrings(fl []imap.Flag) []string {
	var s []string
	for _, f := range fl {
		s = append(s, string(f))
	}
	return s
}

func TestReadAppend(t *testing.T) {
	for _, tc := range []struct{ line, want string }{
		{"a APPEND INBOX {5}\r\nhello\r\n", "INBOX||hello"},
		{"a APPEND Sent (\\Seen $x) \"05-Jul-2022 13:04:05 +0200\" {2+}\r\nhi\r\n", "Sent|flags:\\Seen,$x time:2022-07-05T11:04:05Z|hi"},
		{"a APPEND Drafts () ~{3}\r\na\x00b\r\n", "Drafts|flags: bin|a\x00b"},
		// MULTIAPPEND, RFC 3502 §6.3.11's example shape.
		{"a APPEND saved-messages (\\Seen) {3}\r\none (\\Seen) {3}\r\ntwo {5}\r\nthree\r\n", "saved-messages|flags:\\Seen|one|flags:\\Seen|two||three"},
		// CATENATE, RFC 4469 §5.
		{"a APPEND Drafts (\\Seen \\Draft $MDNSent) CATENATE (URL \"/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER\" TEXT {5}\r\nhello URL \"/x\")\r\n",
			"Drafts|flags:\\Seen,\\Draft,$MDNSent|url:/Drafts;UIDVALIDITY=385759045/;UID=20/;section=HEADER|hello|url:/x"},
		{"a APPEND INBOX CATENATE (TEXT {1}\r\nx) {1}\r\ny\r\n", "INBOX||x||y"},
		{"a APPEND INBOX UTF8 (~{2}\r\nab) {1}\r\nc\r\n", "INBOX|bin utf8|ab||c"},
	} {
		got, err := readAppend(t, tc.line)
		if err != nil {
			t.Errorf("%q: %v (read %q)", tc.line, err, got)
			continue
		}
		if got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.line, got, tc.want)
		}
	}
	for _, line := range []string{
		"a APPEND INBOX\r\n",
		"a APPEND INBOX (\\Seen)\r\n",
		"a APPEND INBOX \"bad date\" {1}\r\nx\r\n",
		"a APPEND INBOX FOO\r\n",
		"a APPEND INBOX {1}\r\nx extra\r\n",
		"a APPEND INBOX CATENATE ()\r\n",
		"a APPEND INBOX CATENATE (FOO x)\r\n",
		"a APPEND INBOX UTF8 ({1}\r\nx)\r\n",
		"a APPEND INBOX UTF8 (~{1}\r\nx\r\n",
	} {
		if got, err := readAppend(t, line); err == nil {
			t.Errorf("%q: accepted as %q", line, got)
		}
	}
}

// A refused APPEND skips its message data (sent regardless when
// non-synchronising) and every later message of a MULTIAPPEND.
func TestAppendRefusedDiscard(t *testing.T) {
	d := newTestDecoder("a APPEND INBOX {3+}\r\nabc {4+}\r\ndefg CATENATE (TEXT {2+}\r\nhi)\r\nb NOOP\r\n")
	_, _, _ = d.Begin()
	_, _ = d.ReadAppendMailbox()
	if _, err := d.NextAppendMessage(); err != nil {
		t.Fatal(err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "b" {
		t.Errorf("next: %q %v", tag, err)
	}
}

func FuzzReadAppend(f *testing.F) {
	f.Add("INBOX (\\Seen) \" 1-Jan-2024 00:00:00 +0000\" {3+}\r\nabc (\\Seen) ~{1+}\r\nx")
	f.Add("INBOX CATENATE (URL \"/a\" TEXT {2+}\r\nhi) UTF8 (~{1+}\r\nx)")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a APPEND " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		if _, err := d.ReadAppendMailbox(); err != nil {
			_ = d.Discard()
			return
		}
		for range 20 {
			m, err := d.NextAppendMessage()
			if err != nil || m == nil {
				break
			}
			if m.Catenate {
				for range 20 {
					p, err := d.NextCatenatePart()
					if err != nil || p == nil {
						break
					}
					if p.Text {
						if r, err := d.AcceptLiteral(); err == nil {
							_, _ = io.Copy(io.Discard, r)
						}
					}
				}
				continue
			}
			if m.Literal.Size > 100 {
				break
			}
			if r, err := d.AcceptLiteral(); err == nil {
				_, _ = io.Copy(io.Discard, r)
			}
		}
		_ = d.Discard()
	})
}
