package wire

import (
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestResponseHelpers(t *testing.T) {
	n := uint32(3)
	size := int64(12345)
	for _, tc := range []struct {
		f    func(e *Encoder)
		want string
	}{
		{func(e *Encoder) { e.BodySectionName(&imap.FetchItemBodySection{Peek: true}, "") }, "BODY[]"},
		{func(e *Encoder) {
			e.BodySectionName(&imap.FetchItemBodySection{Part: []int{1, 2}, Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"From", "X Y"}, Partial: &imap.SectionPartial{Offset: 10, Size: 5}}, "")
		}, `BODY[1.2.HEADER.FIELDS (From "X Y")]<10>`},
		{func(e *Encoder) {
			e.BodySectionName(&imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFieldsNot: []string{"To"}}, "")
		}, `BODY[HEADER.FIELDS.NOT (To)]`},
		{func(e *Encoder) {
			e.BodySectionName(&imap.FetchItemBodySection{Part: []int{3}, Specifier: imap.PartSpecifierMIME}, "")
		}, `BODY[3.MIME]`},
		{func(e *Encoder) { e.BodySectionName(&imap.FetchItemBodySection{}, "RFC822.PEEK") }, `RFC822`},
		{func(e *Encoder) {
			e.BinarySectionName([]int{1}, &imap.SectionPartial{Offset: 0, Size: 1}).SP().BinarySizeName(nil)
		}, `BINARY[1]<0> BINARY.SIZE[]`},
		{func(e *Encoder) {
			e.ESearch("A1", true, &ESearchData{Min: 2, Max: 9, Count: 3, All: imap.UIDSetNum(2, 5, 9), ModSeq: 7, ReturnMin: true, ReturnMax: true, ReturnCount: true, ReturnAll: true})
		}, "* ESEARCH (TAG \"A1\") UID MIN 2 MAX 9 COUNT 3 ALL 2,5,9 MODSEQ 7\r\n"},
		{func(e *Encoder) {
			e.ESearch("A2", false, &ESearchData{ReturnMin: true, ReturnCount: true, ReturnAll: true})
		}, "* ESEARCH (TAG \"A2\") COUNT 0\r\n"},
		{func(e *Encoder) { e.Vanished(true, imap.UIDSetNum(1, 2, 3, 8)) }, "* VANISHED (EARLIER) 1:3,8\r\n"},
		{func(e *Encoder) {
			e.MailboxStatus(&imap.StatusData{Mailbox: "Entwürfe", NumMessages: &n, UIDNext: 4, UIDValidity: 1, Size: &size, HighestModSeq: 99}, "M1")
		}, "* STATUS Entw&APw-rfe (MESSAGES 3 UIDNEXT 4 UIDVALIDITY 1 SIZE 12345 HIGHESTMODSEQ 99 MAILBOXID (M1))\r\n"},
		{func(e *Encoder) {
			e.ListData("LIST", &imap.ListData{Attrs: []imap.MailboxAttr{imap.MailboxAttrHasNoChildren}, Delim: '/', Mailbox: "INBOX"})
		}, "* LIST (\\HasNoChildren) \"/\" INBOX\r\n"},
		{func(e *Encoder) {
			e.ListData("LIST", &imap.ListData{Mailbox: "a b", ChildInfo: &imap.ListDataChildInfo{Subscribed: true}, OldName: "c"})
		}, "* LIST () NIL \"a b\" (\"CHILDINFO\" (\"SUBSCRIBED\") \"OLDNAME\" (c))\r\n"},
		{func(e *Encoder) { e.Untagged().Capabilities([]string{"IMAP4rev2", "IDLE"}).CRLF() }, "* CAPABILITY IMAP4rev2 IDLE\r\n"},
	} {
		if got := encode(tc.f); got != tc.want {
			t.Errorf("got %q\nwant %q", got, tc.want)
		}
	}
}
