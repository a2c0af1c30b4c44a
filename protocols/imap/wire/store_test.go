package wire

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestReadStore(t *testing.T) {
	for _, tc := range []struct {
		line string
		want StoreCommand
	}{
		{"a STORE 1:3 +FLAGS (\\Deleted)\r\n", StoreCommand{NumSet: imap.SeqSet{{Start: 1, Stop: 3}},
			Flags: imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{imap.FlagDeleted}}}},
		{"a UID STORE 7 -flags.silent \\seen $Junk\r\n", StoreCommand{UID: true, NumSet: imap.UIDSet{{Start: 7, Stop: 7}},
			Flags: imap.StoreFlags{Op: imap.StoreFlagsDel, Silent: true, Flags: []imap.Flag{imap.FlagSeen, "$Junk"}}}},
		{"a STORE * FLAGS ()\r\n", StoreCommand{NumSet: imap.SeqSet{{Start: 0, Stop: 0}},
			Flags: imap.StoreFlags{Op: imap.StoreFlagsSet}}},
		{"a STORE 1 (UNCHANGEDSINCE 12345) FLAGS.SILENT (\\Seen)\r\n", StoreCommand{NumSet: imap.SeqSet{{Start: 1, Stop: 1}},
			UnchangedSince: 12345, HasUnchangedSince: true,
			Flags: imap.StoreFlags{Op: imap.StoreFlagsSet, Silent: true, Flags: []imap.Flag{imap.FlagSeen}}}},
		{"a UID STORE $ (UNCHANGEDSINCE 0) +FLAGS x\r\n", StoreCommand{UID: true, NumSet: imap.SearchRes(),
			HasUnchangedSince: true, Flags: imap.StoreFlags{Op: imap.StoreFlagsAdd, Flags: []imap.Flag{"x"}}}},
	} {
		d := begin(t, tc.line)
		got, err := d.ReadStore(tc.want.UID)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, *got, tc.want)
		}
	}
	for _, line := range []string{
		"a STORE 1 FLAGS\r\n",
		"a STORE 1 +FLAGS\r\n",
		"a STORE 1 XFLAGS (\\Seen)\r\n",
		"a STORE 1 () FLAGS (\\Seen)\r\n",
		"a STORE 1 (FOO 1) FLAGS (\\Seen)\r\n",
		"a STORE 1 (UNCHANGEDSINCE x) FLAGS (\\Seen)\r\n",
		"a STORE 0 FLAGS (\\Seen)\r\n",
		"a STORE 1 FLAGS (\\Seen\r\n",
		"a STORE 1 FLAGS \\Seen \r\n",
		"a STORE 1 FLAGS (\\*)\r\n",
	} {
		d := begin(t, line)
		got, err := d.ReadStore(false)
		if _, ok := IsSyntax(err); !ok {
			t.Errorf("%q: got %+v, %v; want a syntax error", line, got, err)
		}
	}
}

func FuzzReadStore(f *testing.F) {
	for _, s := range []string{"1:3 +FLAGS (\\Deleted)", "1 (UNCHANGEDSINCE 5) -FLAGS.SILENT a b", "$ FLAGS ()"} {
		f.Add(s, false)
	}
	f.Fuzz(func(t *testing.T, args string, uid bool) {
		d := newTestDecoder("a STORE " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadStore(uid)
		_ = d.Discard()
	})
}
