package wire

import (
	"reflect"
	"testing"
)

func TestReadNotify(t *testing.T) {
	d := begin(t, "a NOTIFY SET STATUS (selected (MessageExpunge MessageNew (uid body.peek[header.fields (from to subject)]) FlagChange)) (subtree (INBOX Lists) (MessageNew MessageExpunge)) (personal (MailboxName SubscriptionChange)) (inboxes (MessageNew MessageExpunge)) (mailboxes Junk NONE)\r\n")
	c, err := d.ReadNotify()
	if err != nil {
		t.Fatal(err)
	}
	if !c.Status || len(c.Groups) != 5 {
		t.Fatalf("got %+v", c)
	}
	g := c.Groups[0]
	if g.Filter != "SELECTED" || !reflect.DeepEqual(g.Events, []string{"MESSAGEEXPUNGE", "MESSAGENEW", "FLAGCHANGE"}) ||
		g.Fetch == nil || !g.Fetch.UID || len(g.Fetch.BodySection) != 1 || c.Groups[2].Fetch != nil {
		t.Errorf("group 0: %+v", g)
	}
	if g := c.Groups[1]; g.Filter != "SUBTREE" || !reflect.DeepEqual(g.Mailboxes, []string{"INBOX", "Lists"}) {
		t.Errorf("group 1: %+v", g)
	}
	if g := c.Groups[4]; g.Filter != "MAILBOXES" || !reflect.DeepEqual(g.Mailboxes, []string{"Junk"}) || len(g.Events) != 0 {
		t.Errorf("group 3: %+v", g)
	}
	// Dovecot accepts events without their pair (imaptest's notify).
	d = begin(t, "a NOTIFY SET STATUS (mailboxes x (FlagChange))\r\n")
	if c, err := d.ReadNotify(); err != nil || c.Groups[0].Events[0] != "FLAGCHANGE" {
		t.Errorf("FlagChange alone: %+v %v", c, err)
	}
	d = begin(t, "a NOTIFY NONE\r\n")
	if c, err := d.ReadNotify(); err != nil || !c.None {
		t.Errorf("NONE: %+v %v", c, err)
	}
	for _, line := range []string{
		"a NOTIFY\r\n",
		"a NOTIFY SET\r\n",
		"a NOTIFY SET STATUS\r\n",
		"a NOTIFY FOO\r\n",
		"a NOTIFY SET (selected ())\r\n",
		"a NOTIFY SET (bogus (MailboxName))\r\n",
		"a NOTIFY SET (selected (MailboxName)) (selected-delayed (MailboxName))\r\n",
		"a NOTIFY SET (personal (MessageNew (UID) MessageExpunge))\r\n",
		"a NOTIFY SET (subtree () (MailboxName))\r\n",
		"a NOTIFY SET (inboxes (MailboxName)\r\n",
	} {
		d := begin(t, line)
		if c, err := d.ReadNotify(); err == nil {
			t.Errorf("%q: accepted as %+v", line, c)
		}
	}
}

func FuzzReadNotify(f *testing.F) {
	f.Add("SET STATUS (selected (MessageNew (UID FLAGS) MessageExpunge)) (subtree (a b) NONE)")
	f.Add("NONE")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a NOTIFY " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadNotify()
		_ = d.Discard()
	})
}

func TestNotifyObsoleteFetch(t *testing.T) {
	d := begin(t, "a NOTIFY SET (selected (MessageNew (RFC822.HEADER) MessageExpunge))\r\n")
	c, err := d.ReadNotify()
	if err != nil || c.Groups[0].Fetch.Obsolete[c.Groups[0].Fetch.BodySection[0]] != "RFC822.HEADER" {
		t.Errorf("got %+v %v", c, err)
	}
}
