package wire

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestReadSelect(t *testing.T) {
	for _, tc := range []struct {
		line string
		want SelectCommand
	}{
		{"a SELECT inbox\r\n", SelectCommand{Mailbox: "INBOX"}},
		{"a EXAMINE \"a b\" (CONDSTORE)\r\n", SelectCommand{Mailbox: "a b", CondStore: true}},
		{"a SELECT INBOX (QRESYNC (67890007 20050715194045000 41,43:211,214:541))\r\n", SelectCommand{Mailbox: "INBOX",
			QResync: &QResyncParams{UIDValidity: 67890007, ModSeq: 20050715194045000,
				KnownUIDs: imap.UIDSet{{Start: 41, Stop: 41}, {Start: 43, Stop: 211}, {Start: 214, Stop: 541}}}}},
		// RFC 7162 §3.2.5.2's example.
		{"a SELECT INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500,9000,9990:9999 15000,22500,27000,29970,29973,29976,29979,29982,29985,29988,29991,29994,29997)))\r\n", SelectCommand{Mailbox: "INBOX",
			QResync: &QResyncParams{UIDValidity: 67890007, ModSeq: 90060115194045000,
				KnownUIDs: imap.UIDSet{{Start: 1, Stop: 29997}},
				SeqMatch: &QResyncSeqMatch{
					KnownSeqs:    imap.SeqSet{{Start: 5000, Stop: 5000}, {Start: 7500, Stop: 7500}, {Start: 9000, Stop: 9000}, {Start: 9990, Stop: 9999}},
					KnownSeqUIDs: imap.UIDSetNum(15000, 22500, 27000, 29970, 29973, 29976, 29979, 29982, 29985, 29988, 29991, 29994, 29997)}}}},
		{"a SELECT INBOX (QRESYNC (1 2 (1 3)) CONDSTORE)\r\n", SelectCommand{Mailbox: "INBOX", CondStore: true,
			QResync: &QResyncParams{UIDValidity: 1, ModSeq: 2, SeqMatch: &QResyncSeqMatch{KnownSeqs: imap.SeqSetNum(1), KnownSeqUIDs: imap.UIDSetNum(3)}}}},
	} {
		d := begin(t, tc.line)
		got, err := d.ReadSelect()
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, *got, tc.want)
		}
	}
	for _, line := range []string{
		"a SELECT\r\n",
		"a SELECT INBOX ()\r\n",
		"a SELECT INBOX (FOO)\r\n",
		"a SELECT INBOX (QRESYNC)\r\n",
		"a SELECT INBOX (QRESYNC (0 1))\r\n",
		"a SELECT INBOX (QRESYNC (1 0))\r\n",
		"a SELECT INBOX (QRESYNC (1 1 1:*))\r\n",
		"a SELECT INBOX (QRESYNC (1 1 (1:* 2)))\r\n",
		"a SELECT INBOX (QRESYNC (1 1 (1 2) 3))\r\n",
		"a SELECT INBOX (QRESYNC (1 1 2 3))\r\n",
		"a SELECT INBOX (QRESYNC (1 1) QRESYNC (1 1))\r\n",
		"a SELECT INBOX CONDSTORE\r\n",
	} {
		d := begin(t, line)
		if got, err := d.ReadSelect(); err == nil {
			t.Errorf("%q: accepted as %+v", line, got)
		}
	}
}

func FuzzReadSelect(f *testing.F) {
	f.Add("INBOX (QRESYNC (67890007 90060115194045000 1:29997 (5000,7500 15000,22500)) CONDSTORE)")
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a SELECT " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadSelect()
		_ = d.Discard()
	})
}
