package wire

import (
	"bufio"
	"strings"
	"testing"
)

func TestSmallCommands(t *testing.T) {
	d := begin(t, "a UID MOVE 1:5,$ Archiv&APw-\r\n")
	if _, _, err := d.ReadCopy(true); err == nil {
		t.Error("$ mixed into a set accepted")
	}
	d = begin(t, "a UID MOVE 1:5 Arch&AOQ-v\r\n")
	if set, m, err := d.ReadCopy(true); err != nil || set.String() != "1:5" || m != "Archäv" {
		t.Errorf("MOVE: %v %q %v", set, m, err)
	}
	d = begin(t, "a RENAME a \"b c\"\r\n")
	if f, to, err := d.ReadRename(); err != nil || f != "a" || to != "b c" {
		t.Errorf("RENAME: %q %q %v", f, to, err)
	}
	d = begin(t, "a UID EXPUNGE 3:4\r\n")
	if set, err := d.ReadUIDExpunge(); err != nil || set.String() != "3:4" {
		t.Errorf("UID EXPUNGE: %v %v", set, err)
	}
	d = begin(t, "a LOGIN alice {3}\r\np w\r\n")
	if u, p, err := d.ReadLogin(); err != nil || u != "alice" || p != "p w" {
		t.Errorf("LOGIN: %q %q %v", u, p, err)
	}
	d = begin(t, "a AUTHENTICATE plain AGFsaWNlAHB3\r\n")
	if m, ir, ok, err := d.ReadAuthenticate(); err != nil || m != "PLAIN" || ir != "AGFsaWNlAHB3" || !ok {
		t.Errorf("AUTHENTICATE: %q %q %v %v", m, ir, ok, err)
	}
	d = begin(t, "a AUTHENTICATE PLAIN =\r\n")
	if _, ir, ok, err := d.ReadAuthenticate(); err != nil || ir != "=" || !ok {
		t.Errorf("AUTHENTICATE =: %q %v %v", ir, ok, err)
	}
	d = begin(t, "a AUTHENTICATE PLAIN\r\n")
	if _, _, ok, err := d.ReadAuthenticate(); err != nil || ok {
		t.Errorf("AUTHENTICATE without IR: %v %v", ok, err)
	}
}

// TestReadCancelUpdate: CANCELUPDATE takes one or more tags (RFC 5267
// §4.5).
func TestReadCancelUpdate(t *testing.T) {
	d := begin(t, "a CANCELUPDATE \"b1\" {2}\r\nc2\r\n")
	if tags, err := d.ReadCancelUpdate(); err != nil || strings.Join(tags, ",") != "b1,c2" {
		t.Errorf("CANCELUPDATE: %q %v", tags, err)
	}
	for _, line := range []string{"a CANCELUPDATE\r\n", "a CANCELUPDATE \r\n", "a CANCELUPDATE \"x\" \r\n", "a CANCELUPDATE (x)\r\n"} {
		d := begin(t, line)
		if tags, err := d.ReadCancelUpdate(); err == nil {
			t.Errorf("%q: accepted as %q", line, tags)
		}
	}
}

func TestReadLine(t *testing.T) {
	d := NewDecoder(bufio.NewReader(strings.NewReader("DONE\r\n"+strings.Repeat("x", 100)+"\r\nnext\n")), Limits{MaxLineLength: 50})
	if l, err := d.ReadLine(); err != nil || l != "DONE" {
		t.Errorf("got %q %v", l, err)
	}
	if _, err := d.ReadLine(); err == nil {
		t.Error("long line accepted")
	}
	if l, err := d.ReadLine(); err != nil || l != "next" {
		t.Errorf("after a long line: %q %v", l, err)
	}
}

func FuzzSmallCommands(f *testing.F) {
	f.Add("MOVE 1:* INBOX")
	f.Add("AUTHENTICATE PLAIN =")
	f.Add("LOGIN {1+}\r\na b")
	f.Add("CANCELUPDATE \"a\" {1+}\r\nb")
	f.Fuzz(func(t *testing.T, line string) {
		d := newTestDecoder("a " + line + "\r\n")
		_, name, err := d.Begin()
		if err != nil {
			return
		}
		switch name {
		case "MOVE", "COPY":
			_, _, _ = d.ReadCopy(false)
		case "RENAME":
			_, _, _ = d.ReadRename()
		case "UID EXPUNGE":
			_, _ = d.ReadUIDExpunge()
		case "LOGIN":
			_, _, _ = d.ReadLogin()
		case "AUTHENTICATE":
			_, _, _, _ = d.ReadAuthenticate()
		case "CANCELUPDATE":
			_, _ = d.ReadCancelUpdate()
		default:
			_, _ = d.ReadMailboxArg()
		}
		_ = d.Discard()
		_, _ = d.ReadLine()
	})
}
