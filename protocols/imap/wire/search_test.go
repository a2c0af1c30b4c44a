package wire

import (
	"reflect"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestReadSearch(t *testing.T) {
	for _, tc := range []struct {
		line string
		want SearchCommand
	}{
		{"a SEARCH ALL\r\n", SearchCommand{}},
		{"a UID SEARCH RETURN () CHARSET utf-8 SEEN unkeyword $Junk\r\n", SearchCommand{UID: true,
			Return: &imap.SearchOptions{ReturnAll: true}, Charset: "UTF-8",
			Criteria: SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}, NotFlag: []imap.Flag{"$Junk"}}}},
		{"a SEARCH RETURN (MIN MAX COUNT SAVE) 1:3,5 UID $\r\n", SearchCommand{
			Return:   &imap.SearchOptions{ReturnMin: true, ReturnMax: true, ReturnCount: true, ReturnSave: true},
			Criteria: SearchCriteria{SeqNum: []imap.SeqSet{{{Start: 1, Stop: 3}, {Start: 5, Stop: 5}}}, UID: []imap.UIDSet{imap.SearchRes()}}}},
		{"a SEARCH FROM \"smith\" TO {3}\r\nbob HEADER X-Spam yes SUBJECT hi\r\n", SearchCommand{Criteria: SearchCriteria{Header: []imap.SearchCriteriaHeaderField{
			{Key: "From", Value: "smith"}, {Key: "To", Value: "bob"}, {Key: "X-Spam", Value: "yes"}, {Key: "Subject", Value: "hi"}}}}},
		{"a SEARCH ON 2-Mar-2024 SENTSINCE 1-Jan-2024 SENTBEFORE \"5-Jan-2024\" SAVEDON 9-Feb-2024 SAVEDATESUPPORTED\r\n", SearchCommand{Criteria: SearchCriteria{
			Since: day(2024, 3, 2), Before: day(2024, 3, 3), SentSince: day(2024, 1, 1), SentBefore: day(2024, 1, 5),
			SavedSince: day(2024, 2, 9), SavedBefore: day(2024, 2, 10), SaveDateSupported: true}}},
		{"a SEARCH NOT (DELETED LARGER 10) OR BODY x TEXT y SMALLER 100\r\n", SearchCommand{Criteria: SearchCriteria{
			Not: []SearchCriteria{{NotFlag: nil, Flag: []imap.Flag{imap.FlagDeleted}, Larger: 10}},
			Or:  [][2]SearchCriteria{{{Body: []string{"x"}}, {Text: []string{"y"}}}}, Smaller: 100}}},
		{"a SEARCH NEW OLD UNDRAFT RECENT\r\n", SearchCommand{Criteria: SearchCriteria{
			Flag: []imap.Flag{FlagRecent, FlagRecent}, NotFlag: []imap.Flag{imap.FlagSeen, FlagRecent, imap.FlagDraft}}}},
		{"a SEARCH MODSEQ \"/flags/\\\\draft\" all 620162338 YOUNGER 3600 OLDER 60\r\n", SearchCommand{Criteria: SearchCriteria{
			ModSeq:  &imap.SearchCriteriaModSeq{ModSeq: 620162338, MetadataName: `/flags/\draft`, MetadataType: imap.SearchCriteriaMetadataAll},
			Younger: 3600, Older: 60}}},
		{"a SEARCH MODSEQ 0 EMAILID M6d99ac3275bb4e THREADID T64b478a75b7ea9\r\n", SearchCommand{Criteria: SearchCriteria{
			ModSeq: &imap.SearchCriteriaModSeq{}, EmailID: []string{"M6d99ac3275bb4e"}, ThreadID: []string{"T64b478a75b7ea9"}}}},
		{"a SEARCH SMALLER 0\r\n", SearchCommand{Criteria: SearchCriteria{Not: []SearchCriteria{{}}}}},
		{"a SEARCH CHARSET US-ASCII ((SEEN))\r\n", SearchCommand{Charset: "US-ASCII", Criteria: SearchCriteria{Flag: []imap.Flag{imap.FlagSeen}}}},
	} {
		d := begin(t, tc.line)
		got, err := d.ReadSearch(tc.want.UID)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if !reflect.DeepEqual(*got, tc.want) {
			t.Errorf("%q:\n got %+v\nwant %+v", tc.line, *got, tc.want)
		}
	}
}

func TestReadSearchErrors(t *testing.T) {
	for _, line := range []string{
		"a SEARCH\r\n",
		"a SEARCH \r\n",
		"a SEARCH FOO\r\n",
		"a SEARCH SINCE 32-Jan-2024\r\n",
		"a SEARCH ( SEEN\r\n",
		"a SEARCH ()\r\n",
		"a SEARCH SEEN)\r\n",
		"a SEARCH OR SEEN\r\n",
		"a SEARCH NOT\r\n",
		"a SEARCH RETURN (FOO) ALL\r\n",
		"a SEARCH RETURN ALL\r\n",
		"a SEARCH 0\r\n",
		"a SEARCH YOUNGER 0\r\n",
		"a SEARCH MODSEQ \"/x\" all 1\r\n",
		"a SEARCH MODSEQ \"/flags/x\" any 1\r\n",
		"a SEARCH EMAILID ()\r\n",
		"a SEARCH HEADER x\r\n",
		"a SEARCH LARGER -1\r\n",
	} {
		d := begin(t, line)
		got, err := d.ReadSearch(false)
		if _, ok := IsSyntax(err); !ok {
			t.Errorf("%q: got %+v, %v; want a syntax error", line, got, err)
		}
	}
}

func TestSearchDepthLimit(t *testing.T) {
	line := "a SEARCH "
	for range 100 {
		line += "NOT "
	}
	d := begin(t, line+"SEEN\r\n")
	_, err := d.ReadSearch(false)
	if se, ok := IsSyntax(err); !ok || se.Code != "CLIENTBUG" {
		t.Errorf("got %v", err)
	}
}

func TestSearchIMAP(t *testing.T) {
	d := begin(t, "a SEARCH OR YOUNGER 5 SEEN NOT FROM x\r\n")
	c, err := d.ReadSearch(false)
	if err != nil {
		t.Fatal(err)
	}
	if !c.Criteria.Extended() {
		t.Error("YOUNGER not reported as extended")
	}
	im := c.Criteria.IMAP()
	if len(im.Or) != 1 || len(im.Or[0][1].Flag) != 1 || len(im.Not) != 1 || im.Not[0].Header[0].Value != "x" {
		t.Errorf("IMAP(): %+v", im)
	}
}

func FuzzReadSearch(f *testing.F) {
	for _, s := range []string{"RETURN (MIN) CHARSET UTF-8 OR (SEEN 1:*) NOT UID $", "MODSEQ \"/flags/\\\\seen\" priv 5", "HEADER {1+}\r\nx y SINCE 1-Jan-2020", "((((ALL))))", "RETURN (UPDATE CONTEXT PARTIAL -1:-9 COUNT) UNSEEN", "RETURN (PARTIAL 4:2) ALL"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, args string) {
		d := newTestDecoder("a SEARCH " + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		if c, err := d.ReadSearch(false); err == nil {
			_ = c.Criteria.IMAP()
			_ = c.Criteria.Extended()
		}
		_ = d.Discard()
	})
}

func TestSearchReturnContext(t *testing.T) {
	for _, tc := range []struct {
		line string
		want SearchReturn
	}{
		{"a SEARCH RETURN (PARTIAL 4:2) ALL\r\n", SearchReturn{Partial: &PartialRange{First: 2, Last: 4}}},
		{"a SEARCH RETURN (COUNT PARTIAL -1:-100) ALL\r\n", SearchReturn{Partial: &PartialRange{First: 1, Last: 100, FromEnd: true}}},
		{"a SEARCH RETURN (UPDATE CONTEXT ALL) SEEN\r\n", SearchReturn{Update: true, Context: true}},
	} {
		d := begin(t, tc.line)
		c, err := d.ReadSearch(false)
		if err != nil || !reflect.DeepEqual(c.ReturnExt, tc.want) {
			t.Errorf("%q: got %+v %v", tc.line, c, err)
		}
	}
	for _, line := range []string{
		"a SEARCH RETURN (PARTIAL 1) ALL\r\n",
		"a SEARCH RETURN (PARTIAL 1:*) ALL\r\n",
		"a SEARCH RETURN (PARTIAL *:1) ALL\r\n",
		"a SEARCH RETURN (PARTIAL 0:1) ALL\r\n",
		"a SEARCH RETURN (PARTIAL -1:2) ALL\r\n",
		"a SEARCH RETURN (PARTIAL 1:2 PARTIAL 1:2) ALL\r\n",
	} {
		d := begin(t, line)
		if c, err := d.ReadSearch(false); err == nil {
			t.Errorf("%q: accepted as %+v", line, c)
		}
	}
	d := begin(t, "a SORT RETURN (PARTIAL 2:4) (REVERSE ARRIVAL) US-ASCII ALL\r\n")
	if c, err := d.ReadSort(false); err != nil || c.ReturnExt.Partial == nil || c.ReturnExt.Partial.Last != 4 {
		t.Errorf("SORT PARTIAL: %+v %v", c, err)
	}
}
