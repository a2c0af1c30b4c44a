package wire

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// begin returns a decoder positioned after the command name of line.
func begin(t testing.TB, line string) *Decoder {
	t.Helper()
	d := newTestDecoder(line)
	if _, _, err := d.Begin(); err != nil {
		t.Fatalf("%q: Begin: %v", line, err)
	}
	return d
}

func TestReadFetch(t *testing.T) {
	for _, tc := range []struct {
		line  string
		uid   bool
		check func(c *FetchCommand) bool
	}{
		{"a FETCH 1:* ALL\r\n", false, func(c *FetchCommand) bool {
			o := c.Options
			return o.Flags && o.InternalDate && o.RFC822Size && o.Envelope && o.BodyStructure == nil && c.NumSet.String() == "1:*"
		}},
		{"a FETCH 1 fast\r\n", false, func(c *FetchCommand) bool { return c.Options.Flags && !c.Options.Envelope }},
		{"a FETCH 1 FULL\r\n", false, func(c *FetchCommand) bool {
			return c.Options.Body && c.Options.BodyStructure != nil && !c.Options.BodyStructure.Extended
		}},
		{"a FETCH 1 (BODY BODYSTRUCTURE)\r\n", false, func(c *FetchCommand) bool {
			return c.Options.Body && c.Options.BodyStructure.Extended
		}},
		{"a UID FETCH 5 FLAGS\r\n", true, func(c *FetchCommand) bool { return c.Options.UID && c.Options.Flags }},
		{"a FETCH $ (UID MODSEQ EMAILID THREADID SAVEDATE)\r\n", false, func(c *FetchCommand) bool {
			o := c.Options
			return imap.IsSearchRes(c.NumSet) && o.UID && o.ModSeq && o.EmailID && o.ThreadID && o.SaveDate
		}},
		{"a FETCH 1 (BODY.PEEK[HEADER.FIELDS (From \"To\")]<0.100> BODY[1.2.MIME] BODY[3.TEXT] BODY[])\r\n", false, func(c *FetchCommand) bool {
			bs := c.Options.BodySection
			return len(bs) == 4 &&
				reflect.DeepEqual(bs[0], &imap.FetchItemBodySection{Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"From", "To"}, Partial: &imap.SectionPartial{Offset: 0, Size: 100}, Peek: true}) &&
				reflect.DeepEqual(bs[1], &imap.FetchItemBodySection{Specifier: imap.PartSpecifierMIME, Part: []int{1, 2}}) &&
				reflect.DeepEqual(bs[2], &imap.FetchItemBodySection{Specifier: imap.PartSpecifierText, Part: []int{3}}) &&
				reflect.DeepEqual(bs[3], &imap.FetchItemBodySection{})
		}},
		{"a FETCH 1 BODY[HEADER.FIELDS.NOT (X-A)]\r\n", false, func(c *FetchCommand) bool {
			return reflect.DeepEqual(c.Options.BodySection[0].HeaderFieldsNot, []string{"X-A"})
		}},
		{"a FETCH 1 (RFC822 RFC822.HEADER RFC822.TEXT RFC822.SIZE)\r\n", false, func(c *FetchCommand) bool {
			o := c.Options
			return len(o.BodySection) == 3 && o.Obsolete[o.BodySection[0]] == "RFC822" &&
				o.BodySection[1].Specifier == imap.PartSpecifierHeader && o.BodySection[1].Peek &&
				o.Obsolete[o.BodySection[2]] == "RFC822.TEXT" && o.RFC822Size
		}},
		{"a FETCH 1 (BINARY[1]<5.10> BINARY.PEEK[] BINARY.SIZE[2.3])\r\n", false, func(c *FetchCommand) bool {
			o := c.Options
			return len(o.BinarySection) == 2 && reflect.DeepEqual(o.BinarySection[0].Part, []int{1}) && o.BinarySection[0].Partial.Offset == 5 &&
				o.BinarySection[1].Peek && len(o.BinarySection[1].Part) == 0 && reflect.DeepEqual(o.BinarySectionSize[0].Part, []int{2, 3})
		}},
		{"a FETCH 1 (FLAGS) (CHANGEDSINCE 12345)\r\n", false, func(c *FetchCommand) bool {
			o := c.Options
			return o.ChangedSince == 12345 && o.HasChangedSince && o.ModSeq
		}},
		{"a UID FETCH 1:* (FLAGS) (CHANGEDSINCE 0 VANISHED)\r\n", true, func(c *FetchCommand) bool {
			o := c.Options
			return o.HasChangedSince && o.ChangedSince == 0 && o.Vanished
		}},
		{"a FETCH 1 PREVIEW\r\n", false, func(c *FetchCommand) bool { return c.Options.Preview && !c.Options.PreviewLazy }},
		{"a FETCH 1 PREVIEW (LAZY)\r\n", false, func(c *FetchCommand) bool { return c.Options.PreviewLazy }},
		{"a FETCH 1 PREVIEW (CHANGEDSINCE 4)\r\n", false, func(c *FetchCommand) bool {
			return c.Options.Preview && !c.Options.PreviewLazy && c.Options.ChangedSince == 4
		}},
		{"a FETCH 1 (PREVIEW (LAZY) FLAGS PREVIEW) (CHANGEDSINCE 4)\r\n", false, func(c *FetchCommand) bool {
			return c.Options.PreviewLazy && c.Options.Flags && c.Options.ChangedSince == 4
		}},
	} {
		d := begin(t, tc.line)
		c, err := d.ReadFetch(tc.uid)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if !tc.check(c) {
			t.Errorf("%q: got %+v", tc.line, c.Options)
		}
		if d.InCommand() {
			t.Errorf("%q: not at the end", tc.line)
		}
	}
}

func TestReadFetchErrors(t *testing.T) {
	for _, tc := range []struct {
		line string
		uid  bool
	}{
		{"a FETCH 1\r\n", false},
		{"a FETCH 0 FLAGS\r\n", false},
		{"a FETCH 1 (ALL)\r\n", false},
		{"a FETCH 1 FOO\r\n", false},
		{"a FETCH 1 ()\r\n", false},
		{"a FETCH 1 BODY[\r\n", false},
		{"a FETCH 1 BODY[MIME]\r\n", false},
		{"a FETCH 1 BODY[HEADER.FIELDS ()]\r\n", false},
		{"a FETCH 1 BODY[1.]\r\n", false},
		{"a FETCH 1 BODY[0]\r\n", false},
		{"a FETCH 1 BODY.PEEK\r\n", false},
		{"a FETCH 1 BODY[]<1.0>\r\n", false},
		{"a FETCH 1 BODY[]<1>\r\n", false},
		{"a FETCH 1 BODY[]<99999999999999999999.1>\r\n", false},
		{"a FETCH 1 BINARY[TEXT]\r\n", false},
		{"a FETCH 1 FLAGS (VANISHED)\r\n", false},
		{"a UID FETCH 1 FLAGS (VANISHED)\r\n", true},
		{"a FETCH 1 FLAGS (CHANGEDSINCE)\r\n", false},
		{"a FETCH 1 FLAGS (FOO)\r\n", false},
		{"a FETCH 1 (PREVIEW (FOO))\r\n", false},
		{"a FETCH 1 FLAGS extra\r\n", false},
	} {
		d := begin(t, tc.line)
		c, err := d.ReadFetch(tc.uid)
		if _, ok := IsSyntax(err); !ok {
			t.Errorf("%q: got %+v, %v; want a syntax error", tc.line, c, err)
		}
	}
}

func FuzzReadFetch(f *testing.F) {
	for _, s := range []string{"1:* ALL", "1 (BODY.PEEK[1.2.HEADER.FIELDS (A B)]<0.5> BINARY[1] PREVIEW (LAZY))", "1 FLAGS (CHANGEDSINCE 3 VANISHED)", "1 PREVIEW (CHANGEDSINCE 1)"} {
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, args string, uid bool) {
		d := newTestDecoder("a FETCH " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		_, _ = d.ReadFetch(uid)
		_ = d.Discard()
	})
}
