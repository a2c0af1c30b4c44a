package wire

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestReadCreate(t *testing.T) {
	for _, tc := range []struct {
		line string
		want CreateCommand
	}{
		{"a CREATE foo/bar\r\n", CreateCommand{Mailbox: "foo/bar"}},
		{"a CREATE Trash (USE (\\trash \\X-Foo))\r\n", CreateCommand{Mailbox: "Trash", Use: []imap.MailboxAttr{imap.MailboxAttrTrash, `\X-Foo`}}},
		{"a CREATE x (USE ())\r\n", CreateCommand{Mailbox: "x", Use: []imap.MailboxAttr{}}},
	} {
		d := begin(t, tc.line)
		got, err := d.ReadCreate()
		if err != nil || !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q: got %+v %v", tc.line, got, err)
		}
	}
	for _, line := range []string{"a CREATE\r\n", "a CREATE x ()\r\n", "a CREATE x (FOO (a))\r\n", "a CREATE x (USE \\Trash)\r\n", "a CREATE x y\r\n"} {
		d := begin(t, line)
		if c, err := d.ReadCreate(); err == nil {
			t.Errorf("%q: accepted as %+v", line, c)
		}
	}
}

func FuzzReadCreate(f *testing.F) {
	f.Add("Trash (USE (\\Trash))")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a CREATE " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadCreate()
		_ = d.Discard()
	})
}
