package sortthread

import (
	"fmt"
	"strings"
	"testing"
)

func ids(v []uint32) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, " ")
}

// TestSortImaptest checks the answers imaptest's sort-* scripts expect
// (Dovecot's) over their message sets.
func TestSortImaptest(t *testing.T) {
	for _, tc := range []struct{ mbox, criteria, want string }{
		{"sort-addresses.mbox", "from", "3 1 2"},
		{"sort-addresses.mbox", "to", "3 1 2"},
		{"sort-addresses.mbox", "cc", "3 1 2"},
		{"sort-addresses.mbox", "reverse from", "1 2 3"},
		{"sort-addresses.mbox", "reverse to", "1 2 3"},
		{"sort-addresses.mbox", "reverse cc", "1 2 3"},
		{"sort-addresses.mbox", "from reverse arrival", "3 2 1"},
		{"sort-addresses.mbox", "to reverse arrival", "3 2 1"},
		{"sort-addresses.mbox", "cc reverse arrival", "3 2 1"},
		{"sort-arrival.mbox", "arrival", "1 3 2 4 5"},
		{"sort-arrival.mbox", "reverse arrival", "2 4 5 3 1"},
		{"sort-arrival.mbox", "arrival reverse size", "1 3 5 4 2"},
		{"sort-date.mbox", "date", "1 3 7 5 2 4 6"},
		{"sort-date.mbox", "reverse date", "2 4 6 5 3 7 1"},
		{"sort-date.mbox", "date reverse size", "1 7 3 5 6 4 2"},
		{"sort-display-from.mbox", "displayfrom", "2 3 4 1 5"},
		{"sort-display-from.mbox", "reverse displayfrom", "5 1 4 3 2"},
		{"sort-display-to.mbox", "displayto", "6 2 3 8 4 1 5 7"},
		{"sort-display-to.mbox", "reverse displayto", "7 5 1 4 8 3 2 6"},
		{"sort-size.mbox", "size", "1 8 2 6 3 5 4 7"},
		{"sort-size.mbox", "reverse size", "4 7 3 5 2 6 1 8"},
		{"sort-size.mbox", "size reverse arrival", "8 1 6 2 5 3 7 4"},
		{"sort-subject.mbox", "subject", "9 10 1 14 3 5 11 6 15 2 7 12 13 8 4"},
		{"sort-subject.mbox", "reverse subject", "4 8 2 7 12 13 15 6 3 5 11 14 1 9 10"},
		{"sort-subject.mbox", "subject reverse size", "10 9 1 14 11 5 3 6 15 13 12 7 2 8 4"},
	} {
		msgs := readMbox(t, tc.mbox)
		if got := ids(Sort(msgs, criteria(t, tc.criteria))); got != tc.want {
			t.Errorf("%s SORT (%s): %s, want %s", tc.mbox, tc.criteria, got, tc.want)
		}
	}
}

// TestSortTies: messages equal by every criterion keep mailbox order,
// REVERSE included (RFC 5256 §3).
func TestSortTies(t *testing.T) {
	msgs := []Message{{ID: 5, Arrival: 10}, {ID: 7, Arrival: 10}, {ID: 9, Arrival: 5}}
	if got := ids(Sort(msgs, []Criterion{{Key: Arrival, Reverse: true}})); got != "5 7 9" {
		t.Errorf("got %s", got)
	}
	if got := ids(Sort(msgs, nil)); got != "5 7 9" {
		t.Errorf("no criteria: %s", got)
	}
}

func TestBaseSubject(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		reply    bool
	}{
		{"", "", false},
		{"hello", "hello", false},
		{"Re: hello", "hello", true},
		{"RE:  hello  ", "hello", true},
		{"Fwd: Re: hello (fwd)", "hello", true},
		{"fw: hello", "hello", true},
		{"Re [2]: hello", "hello", true},
		{"[list] Re: hello", "hello", true},
		{"[list] hello", "hello", false},
		{"[list]", "[list]", false},
		{"[fwd: hello]", "hello", true},
		{"Re: [fwd: [list] Re: hello]", "hello", true},
		{"re: [fwd: [fwd: re: [fwd: babylon]]]", "babylon", true},
		{"[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)", "b", true},
		{"Ad: Re: x", "Ad: Re: x", false},
		{"hello\r\n\tworld", "hello world", false},
		{"=?iso-8859-1?q?RE:_C?=", "C", true},
		{"=?us-ascii?b?UmU6IGM=?=", "c", true},
		{"=?iso-8859-1?q?_?=", "", false},
		{"=?utf-8?q?R=C3=A9sum=C3=A9?=", "Résumé", false},
		{"Re:", "", true},
		{"Re: [fwd:]", "", true},
		{"Reply: x", "Reply: x", false},
		{"[a] [b] [c] x", "x", false},
		{"[a] [b] [c]", "[c]", false},
		{"[a] [b] re: [c] [d]", "[d]", true},
		{"[a] [b] [c", "[c", false},
	} {
		got, reply := BaseSubject(tc.in)
		if got != tc.want || reply != tc.reply {
			t.Errorf("BaseSubject(%q) = %q, %v; want %q, %v", tc.in, got, reply, tc.want, tc.reply)
		}
	}
}

func TestCollate(t *testing.T) {
	for _, tc := range []struct{ a, b string }{
		{"abc", "ABC"},
		{"ǆ", "ǅ"},           // titlecase, not upper case
		{"é", "E\u0301"},     // NFKD
		{"straße", "STRAßE"}, // simple mappings only
	} {
		if Collate(tc.a) != Collate(tc.b) {
			t.Errorf("Collate(%q) = %q, Collate(%q) = %q", tc.a, Collate(tc.a), tc.b, Collate(tc.b))
		}
	}
	if Collate("a") >= Collate("B") {
		t.Error("a sorts after B")
	}
	if Collate("[x]") >= Collate("_") || Collate("c") >= Collate("[x]") {
		t.Error("brackets sort as upper-cased ASCII")
	}
}

func TestFirstAddress(t *testing.T) {
	for _, tc := range []struct {
		in                    string
		name, mailbox, domain string
		group, ok             bool
	}{
		{"", "", "", "", false, false},
		{"user@example.com", "", "user", "example.com", false, true},
		{"Foo Bar <foo@example.com>, x@y", "Foo Bar", "foo", "example.com", false, true},
		{`"Bar, Foo" <foo@example.com>`, "Bar, Foo", "foo", "example.com", false, true},
		{"foo@example.com (Foo Bar)", "Foo Bar", "foo", "example.com", false, true},
		{"team: a@b, c@d;", "team", "team", "", true, true},
		{"empty:;", "empty", "empty", "", true, true},
		{"<@route1,@route2:foo@example.com>", "", "foo", "example.com", false, true},
		{`"quoted local"@example.com`, "", "quoted local", "example.com", false, true},
		{"d", "", "d", "", false, true},
		{"=?utf-8?q?J=C3=B6rg?= <j@example.com>", "=?utf-8?q?J=C3=B6rg?=", "j", "example.com", false, true},
		{", , x@y", "", "x", "y", false, true},
		{": a@b;", "", "a", "b", false, true}, // a group without a name: its first member
		{"Foo <foo@[192.0.2.1]>", "Foo", "foo", "[192.0.2.1]", false, true},
	} {
		a, ok := FirstAddress(tc.in)
		want := Address{Name: tc.name, Mailbox: tc.mailbox, Domain: tc.domain, Group: tc.group}
		if a != want || ok != tc.ok {
			t.Errorf("FirstAddress(%q) = %+v, %v; want %+v, %v", tc.in, a, ok, want, tc.ok)
		}
	}
}

func TestSentDate(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"", 0, false},
		{"Sun, 31 Dec 2000 16:01:33 -0800", 978307293, true}, // RFC 5256 §2.2's example: 1 Jan 2001 00:01:33 UTC
		{"31 Dec 2000 16:01:33 -0800", 978307293, true},
		{"Sun, 31 Dec 2000 16:01:33 XYZ", 978278493, true},   // bad zone: UTC
		{"Sun, 31 Dec 2000 99:99:99 +0000", 978220800, true}, // bad time: 00:00:00
		{"garbage", 0, false},
		{"Tue,14 Oct 2025 03:12:45 GMT", 1760411565, true},
		{"14 Oct 25 03:12 EST", 1760429520, true},                   // two-digit year, obsolete zone, no seconds
		{"Tue, 14 Oct 2025 03:12:45 +0000 (UTC)", 1760411565, true}, // comment
		{"14 Foo 2025 03:12:45 +0000", 0, false},
	} {
		got, ok := SentDate(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("SentDate(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestMessageIDs(t *testing.T) {
	for _, tc := range []struct {
		in, want string
	}{
		{"<a@b>", "a@b"},
		{`<"01KF8JCEOCBS0045PS"@xxx.yyy.com>`, "01KF8JCEOCBS0045PS@xxx.yyy.com"}, // RFC 5256 §3's example
		{"<a@b> <c@d>\r\n <e@f>", "a@b c@d e@f"},
		{"<a@b> (comment <x@y>) <c@d>", "a@b c@d"},
		{"<nope> <a@b>", "a@b"},
		{"<a@b", ""},
		{"<<a@b>", "a@b"},
		{`"Foo <x@y>" <a@b>`, "a@b"},
		{"Message from Foo of \"date\" <a@b>", "a@b"},
	} {
		if got := strings.Join(MessageIDs(tc.in, 0), " "); got != tc.want {
			t.Errorf("MessageIDs(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseFields(t *testing.T) {
	h := "Received: x\r\n  y\r\nSUBJECT: first\r\n line\r\nsubject: second\r\nTo:\r\nTo: later\r\nMessage-Id: <a@b>\r\n\r\nFrom: body@x\r\n"
	f := ParseFields([]byte(h))
	if f.Subject != "first line" || f.To != "" || f.MessageID != "<a@b>" || f.From != "" {
		t.Errorf("%+v", f)
	}
}
