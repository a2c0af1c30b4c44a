package wire

import (
	"reflect"
	"testing"
)

func TestReadACL(t *testing.T) {
	d := begin(t, "a SETACL INBOX/Drafts Fred +lrswipkxte\r\n")
	c, err := d.ReadSetACL()
	if err != nil || !reflect.DeepEqual(c, &AclCommand{Mailbox: "INBOX/Drafts", Identifier: "Fred", Rights: "+lrswipkxte"}) {
		t.Errorf("SETACL: %+v %v", c, err)
	}
	d = begin(t, "a SETACL Team \"-anyone\" \"\"\r\n")
	if c, err := d.ReadSetACL(); err != nil || c.Identifier != "-anyone" || c.Rights != "" {
		t.Errorf("SETACL negative: %+v %v", c, err)
	}
	d = begin(t, "a DELETEACL inbox \"alice@example.org\"\r\n")
	if c, err := d.ReadMailboxIdentifier(); err != nil || c.Mailbox != "INBOX" || c.Identifier != "alice@example.org" {
		t.Errorf("DELETEACL: %+v %v", c, err)
	}
	d = begin(t, "a MYRIGHTS Entw&APw-rfe\r\n")
	if m, err := d.ReadMailboxArg(); err != nil || m != "Entwürfe" {
		t.Errorf("MYRIGHTS: %q %v", m, err)
	}
	for _, line := range []string{"a SETACL INBOX fred\r\n", "a SETACL INBOX \"\" lr\r\n", "a SETACL INBOX fred lr x\r\n"} {
		d := begin(t, line)
		if c, err := d.ReadSetACL(); err == nil {
			t.Errorf("%q: accepted as %+v", line, c)
		}
	}
	d = begin(t, "a LISTRIGHTS INBOX\r\n")
	if c, err := d.ReadMailboxIdentifier(); err == nil {
		t.Errorf("LISTRIGHTS without identifier accepted: %+v", c)
	}
}

func FuzzReadACL(f *testing.F) {
	f.Add("INBOX fred +lr")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a SETACL " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadSetACL()
		_ = d.Discard()
	})
}
