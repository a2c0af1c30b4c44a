package wire

import (
	"testing"
)

func TestReadStatus(t *testing.T) {
	d := begin(t, "a STATUS Entw&APw-rfe (MESSAGES uidnext UIDVALIDITY UNSEEN DELETED SIZE RECENT HIGHESTMODSEQ APPENDLIMIT DELETED-STORAGE MAILBOXID)\r\n")
	c, err := d.ReadStatus()
	if err != nil {
		t.Fatal(err)
	}
	o := c.Options
	if c.Mailbox != "Entwürfe" || !o.NumMessages || !o.UIDNext || !o.UIDValidity || !o.NumUnseen || !o.NumDeleted ||
		!o.Size || !o.NumRecent || !o.HighestModSeq || !o.AppendLimit || !o.DeletedStorage || !o.MailboxID {
		t.Errorf("got %+v", c)
	}
	for _, line := range []string{
		"a STATUS INBOX\r\n",
		"a STATUS INBOX ()\r\n",
		"a STATUS INBOX (FOO)\r\n",
		"a STATUS INBOX MESSAGES\r\n",
		"a STATUS (MESSAGES)\r\n",
		"a STATUS INBOX (MESSAGES) x\r\n",
	} {
		d := begin(t, line)
		if got, err := d.ReadStatus(); err == nil {
			t.Errorf("%q: accepted as %+v", line, got)
		}
	}
}

func FuzzReadStatus(f *testing.F) {
	f.Add("INBOX (MESSAGES SIZE MAILBOXID)")
	f.Add("{3}\r\nabc (UNSEEN)")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a STATUS " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadStatus()
		_ = d.Discard()
	})
}
