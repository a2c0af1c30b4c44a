package wire

import (
	"reflect"
	"testing"
)

func TestReadList(t *testing.T) {
	for _, tc := range []struct {
		line string
		want ListCommand
	}{
		{"a LIST \"\" *\r\n", ListCommand{Patterns: []string{"*"}}},
		{"a LIST inbox %\r\n", ListCommand{Reference: "inbox", Patterns: []string{"%"}}},
		{"a LIST \"\" INBOX\r\n", ListCommand{Patterns: []string{"INBOX"}}},
		{"a LIST ~/Mail/ Entw&APw-rfe/%]\r\n", ListCommand{Reference: "~/Mail/", Patterns: []string{"Entwürfe/%]"}}},
		{"a LIST (SUBSCRIBED RECURSIVEMATCH) \"\" (INBOX \"a b\" {1}\r\n%) RETURN (CHILDREN STATUS (MESSAGES UNSEEN) SPECIAL-USE MYRIGHTS SUBSCRIBED)\r\n", ListCommand{
			Patterns: []string{"INBOX", "a b", "%"}, SelectSubscribed: true, SelectRecursiveMatch: true,
			ReturnChildren: true, ReturnSpecialUse: true, ReturnMyRights: true, ReturnSubscribed: true,
			ReturnStatus: &StatusOptions{}, Extended: true}},
		{"a LIST () \"\" % RETURN ()\r\n", ListCommand{Patterns: []string{"%"}, Extended: true}},
		{"a LIST (SPECIAL-USE REMOTE) \"\" *\r\n", ListCommand{Patterns: []string{"*"}, SelectSpecialUse: true, SelectRemote: true, Extended: true}},
	} {
		d := begin(t, tc.line)
		got, err := d.ReadList()
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if tc.want.ReturnStatus != nil {
			if got.ReturnStatus == nil || !got.ReturnStatus.NumMessages || !got.ReturnStatus.NumUnseen {
				t.Errorf("%q: status %+v", tc.line, got.ReturnStatus)
			}
			got.ReturnStatus, tc.want.ReturnStatus = nil, nil
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, *got, tc.want)
		}
	}
	for _, line := range []string{
		"a LIST\r\n",
		"a LIST \"\"\r\n",
		"a LIST (RECURSIVEMATCH) \"\" *\r\n",
		"a LIST (FOO) \"\" *\r\n",
		"a LIST \"\" ()\r\n",
		"a LIST \"\" * RETURN (FOO)\r\n",
		"a LIST \"\" * RETURN (STATUS ())\r\n",
		"a LIST \"\" * (CHILDREN)\r\n",
	} {
		d := begin(t, line)
		if got, err := d.ReadList(); err == nil {
			t.Errorf("%q: accepted as %+v", line, got)
		}
	}
	// A pattern that is not modified UTF-7 matches nothing instead of
	// failing (imaptest's atoms expects OK, as Dovecot answers).
	d := begin(t, "a LIST \"\" !#$&'+,-.0123456789:;<=>?@^_`|[}%*\r\n")
	if c, err := d.ReadList(); err != nil || c.Patterns[0] != "!#$&'+,-.0123456789:;<=>?@^_`|[}%*" {
		t.Errorf("raw pattern: %+v %v", c, err)
	}
	d = begin(t, "a LSUB \"\" news.*\r\n")
	if c, err := d.ReadLsub(); err != nil || c.Pattern != "news.*" {
		t.Errorf("LSUB: %+v %v", c, err)
	}
}

func FuzzReadList(f *testing.F) {
	f.Add("(SUBSCRIBED) \"\" (a b) RETURN (STATUS (SIZE) CHILDREN)")
	f.Add("\"\" *")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a LIST " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadList()
		_ = d.Discard()
	})
}
