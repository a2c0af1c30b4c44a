package wire

import (
	"reflect"
	"strings"
	"testing"
)

func TestEntryNames(t *testing.T) {
	for _, n := range []string{"/private/comment", "/shared/vendor/x/y", "/Shared/Comment", "/private"} {
		if !ValidEntryName(n) {
			t.Errorf("%q refused", n)
		}
	}
	for _, n := range []string{"", "/", "comment", "/other/x", "/private/", "/private//x", "/shared/a*", "/shared/%", "/shared/a b", "/shared/\xc3\xa4"} {
		if ValidEntryName(n) {
			t.Errorf("%q accepted", n)
		}
	}
}

func TestReadGetMetadata(t *testing.T) {
	d := begin(t, "a GETMETADATA (MAXSIZE 1024 DEPTH infinity) INBOX (/shared/comment /private/comment)\r\n")
	c, err := d.ReadGetMetadata()
	want := &GetMetadataCommand{Mailbox: "INBOX", Entries: []string{"/shared/comment", "/private/comment"}, MaxSize: 1024, Depth: -1}
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v %v", c, err)
	}
	d = begin(t, "a GETMETADATA \"\" /shared/admin\r\n")
	c, err = d.ReadGetMetadata()
	want = &GetMetadataCommand{Entries: []string{"/shared/admin"}, MaxSize: -1}
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v %v", c, err)
	}
	for _, line := range []string{
		"a GETMETADATA INBOX\r\n",
		"a GETMETADATA INBOX comment\r\n",
		"a GETMETADATA INBOX ()\r\n",
		"a GETMETADATA () INBOX /shared/x\r\n",
		"a GETMETADATA (DEPTH 2) INBOX /shared/x\r\n",
		"a GETMETADATA (FOO 1) INBOX /shared/x\r\n",
	} {
		d := begin(t, line)
		if c, err := d.ReadGetMetadata(); err == nil {
			t.Errorf("%q: accepted as %+v", line, c)
		}
	}
}

func TestReadSetMetadata(t *testing.T) {
	d := begin(t, "a SETMETADATA INBOX (/private/comment {3}\r\nabc /shared/x NIL /shared/y \"v\" /shared/z ~{2}\r\n\x00b)\r\n")
	c, err := d.ReadSetMetadata(0)
	want := &SetMetadataCommand{Mailbox: "INBOX", Entries: []MetadataEntry{
		{"/private/comment", []byte("abc"), true}, {"/shared/x", nil, false}, {"/shared/y", []byte("v"), true}, {"/shared/z", []byte("\x00b"), true}}}
	if err != nil || !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v %v", c, err)
	}
	// A value over the limit is refused before the continuation.
	d = begin(t, "a SETMETADATA INBOX (/private/comment {300}\r\nb NOOP\r\n")
	d.Continue = func(int64) error { t.Error("continuation for a refused value"); return nil }
	_, err = d.ReadSetMetadata(100)
	if se, ok := IsSyntax(err); !ok || !se.No || se.Code != "METADATA MAXSIZE 100" {
		t.Errorf("got %v", err)
	}
	if err := d.Discard(); err != nil {
		t.Fatal(err)
	}
	if tag, _, err := d.Begin(); err != nil || tag != "b" {
		t.Errorf("next: %q %v", tag, err)
	}
	for _, line := range []string{
		"a SETMETADATA INBOX ()\r\n",
		"a SETMETADATA INBOX (/private NIL)\r\n",
		"a SETMETADATA INBOX (/private/x)\r\n",
		"a SETMETADATA INBOX (comment \"x\")\r\n",
		"a SETMETADATA INBOX /private/x \"y\"\r\n",
		"a SETMETADATA INBOX (/private/x " + strings.Repeat("y", 3) + ")\r\n",
	} {
		d := begin(t, line)
		if c, err := d.ReadSetMetadata(0); err == nil {
			t.Errorf("%q: accepted as %+v", line, c)
		}
	}
}

func FuzzReadMetadata(f *testing.F) {
	f.Add("(MAXSIZE 5 DEPTH 1) \"\" (/shared/a /private/b)", false)
	f.Add("INBOX (/private/a {2+}\r\nxy /shared/b NIL)", true)
	f.Fuzz(func(t *testing.T, args string, set bool) {
		name := "GETMETADATA "
		if set {
			name = "SETMETADATA "
		}
		d := newTestDecoder("a " + name + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		if set {
			_, _ = d.ReadSetMetadata(10)
		} else {
			_, _ = d.ReadGetMetadata()
		}
		_ = d.Discard()
	})
}
