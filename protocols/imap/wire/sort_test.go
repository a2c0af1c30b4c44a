package wire

import (
	"reflect"
	"testing"

	"github.com/emersion/go-imap/v2"
)

func TestReadSort(t *testing.T) {
	d := begin(t, "a UID SORT RETURN (MIN COUNT) (REVERSE DATE subject DISPLAYFROM) UTF-8 SINCE 1-Feb-1994 NOT SEEN\r\n")
	c, err := d.ReadSort(true)
	if err != nil {
		t.Fatal(err)
	}
	want := &SortCommand{UID: true, Return: &imap.SearchOptions{ReturnMin: true, ReturnCount: true},
		Criteria: []SortCriterion{{Key: SortDate, Reverse: true}, {Key: SortSubject}, {Key: SortDisplayFrom}},
		Charset:  "UTF-8",
		Search:   SearchCriteria{Since: day(1994, 2, 1), Not: []SearchCriteria{{Flag: []imap.Flag{imap.FlagSeen}}}}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("got %+v\nwant %+v", c, want)
	}
	for _, line := range []string{
		"a SORT (DATE) UTF-8\r\n",
		"a SORT (DATE) ALL\r\n",
		"a SORT () UTF-8 ALL\r\n",
		"a SORT (REVERSE) UTF-8 ALL\r\n",
		"a SORT (FOO) UTF-8 ALL\r\n",
		"a SORT DATE UTF-8 ALL\r\n",
		"a SORT RETURN (FOO) (DATE) UTF-8 ALL\r\n",
	} {
		d := begin(t, line)
		if got, err := d.ReadSort(false); err == nil {
			t.Errorf("%q: accepted as %+v", line, got)
		}
	}
}

func TestReadThread(t *testing.T) {
	d := begin(t, "a THREAD references US-ASCII SINCE 1-Feb-1994\r\n")
	c, err := d.ReadThread(false)
	if err != nil || c.Algorithm != "REFERENCES" || c.Charset != "US-ASCII" || c.Search.Since.IsZero() {
		t.Errorf("got %+v %v", c, err)
	}
	for _, line := range []string{"a THREAD\r\n", "a THREAD REFERENCES\r\n", "a THREAD REFERENCES UTF-8\r\n", "a THREAD (X) UTF-8 ALL\r\n"} {
		d := begin(t, line)
		if got, err := d.ReadThread(false); err == nil {
			t.Errorf("%q: accepted as %+v", line, got)
		}
	}
}

func FuzzReadSort(f *testing.F) {
	f.Add("RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL", true)
	f.Add("REFERENCES UTF-8 OR SEEN (1:3)", false)
	f.Add("RETURN (UPDATE PARTIAL 1:10 CONTEXT) (DATE) UTF-8 UNSEEN", true)
	f.Fuzz(func(t *testing.T, args string, sort bool) {
		name := "THREAD "
		if sort {
			name = "SORT "
		}
		d := newTestDecoder("a " + name + args + "\r\n")
		if _, _, err := d.Begin(); err != nil {
			return
		}
		if sort {
			_, _ = d.ReadSort(false)
		} else {
			_, _ = d.ReadThread(true)
		}
		_ = d.Discard()
	})
}
