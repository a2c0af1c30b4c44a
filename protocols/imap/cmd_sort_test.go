package imap

import (
	"fmt"
	"strings"
	"testing"
)

// sortFixture is a mailbox for the SORT and THREAD scripts: internal
// date (minutes past midnight) and header of each message, in order.
var sortFixture = []struct {
	minute int
	header string
}{
	{30, "Subject: beta\r\nFrom: Zed <zed@x.test>\r\nMessage-ID: <1@x>\r\nDate: Thu, 1 Jan 2026 05:00:00 +0000"},
	{10, "Subject: Re: alpha\r\nFrom: amy@x.test\r\nMessage-ID: <2@x>\r\nIn-Reply-To: <3@x>\r\nDate: Thu, 1 Jan 2026 04:00:00 +0000"},
	{20, "Subject: alpha\r\nFrom: Bob <bob@x.test>\r\nMessage-ID: <3@x>\r\nDate: Thu, 1 Jan 2026 01:00:00 +0000"},
	{0, "Subject: [list] Re: beta\r\nFrom: carl@x.test\r\nMessage-ID: <4@x>"},
	{40, "Subject: gamma\r\nFrom: =?utf-8?q?=C3=85sa?= <asa@x.test>\r\nMessage-ID: <5@x>\r\nReferences: <3@x> <2@x>\r\nDate: Thu, 1 Jan 2026 06:00:00 +0000"},
}

// sortSession logs a new user in over a raw connection, appends
// sortFixture to INBOX and selects it.
func sortSession(t *testing.T, prefix string, messages bool) *rawConn {
	t.Helper()
	c := sharedCluster(t)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	user := c.NewUser(t, prefix, password)
	rc := dialRaw(t, implicit, true)
	if r := rc.cmd("l", fmt.Sprintf("LOGIN %q %q", user, password)); !strings.HasPrefix(last(r), "l OK") {
		t.Fatalf("LOGIN: %v", r)
	}
	if messages {
		for i, m := range sortFixture {
			body := m.header + "\r\n\r\nbody\r\n"
			date := fmt.Sprintf(`"01-Jan-2026 00:%02d:00 +0000"`, m.minute)
			r := rc.cmd(fmt.Sprintf("a%d", i), fmt.Sprintf("APPEND INBOX %s {%d+}\r\n%s", date, len(body), body))
			if !strings.Contains(last(r), "OK") {
				t.Fatalf("APPEND: %v", r)
			}
		}
	}
	if r := rc.cmd("s", "SELECT INBOX"); !strings.HasPrefix(last(r), "s OK") {
		t.Fatalf("SELECT: %v", r)
	}
	return rc
}

// script runs each command and checks its untagged lines and the tagged
// reply's beginning.
func script(t *testing.T, rc *rawConn, steps []scriptStep) {
	t.Helper()
	for i, st := range steps {
		tag := fmt.Sprintf("t%d", i)
		r := rc.cmd(tag, st.send)
		if !strings.HasPrefix(last(r), tag+" "+st.reply) {
			t.Errorf("%s: reply %q, want %q", st.send, last(r), st.reply)
			continue
		}
		got := strings.Join(r[:len(r)-1], "\n")
		want := strings.ReplaceAll(strings.Join(st.untagged, "\n"), "$tag", tag)
		if got != want {
			t.Errorf("%s:\n got %q\nwant %q", st.send, got, want)
		}
	}
}

type scriptStep struct {
	send     string
	untagged []string
	reply    string // "OK", "NO [BADCHARSET", "BAD"...
}

func TestSortCommand(t *testing.T) {
	rc := sortSession(t, "sortcmd", true)
	script(t, rc, []scriptStep{
		{"SORT (ARRIVAL) UTF-8 ALL", []string{"* SORT 4 2 3 1 5"}, "OK"},
		{"SORT (REVERSE ARRIVAL) US-ASCII ALL", []string{"* SORT 5 1 3 2 4"}, "OK"},
		// 4 has no Date: its internal date (00:00) stands in (RFC 5256 §2.2).
		{"SORT (DATE) UTF-8 ALL", []string{"* SORT 4 3 2 1 5"}, "OK"},
		{"SORT (SUBJECT REVERSE DATE) UTF-8 ALL", []string{"* SORT 2 3 1 4 5"}, "OK"},
		{"sort (from) utf-8 all", []string{"* SORT 2 5 3 4 1"}, "OK"},
		// Å is A and a combining ring (NFKD): Åsa sorts between amy and Bob.
		{"SORT (DISPLAYFROM) UTF-8 ALL", []string{"* SORT 2 5 3 4 1"}, "OK"},
		{"SORT (SIZE ARRIVAL) UTF-8 ALL", []string{"* SORT 4 1 3 2 5"}, "OK"},
		{"UID SORT (DATE) UTF-8 ALL", []string{"* SORT 4 3 2 1 5"}, "OK"},
		// The search program picks the messages.
		{"SORT (DATE) UTF-8 SUBJECT alpha", []string{"* SORT 3 2"}, "OK"},
		{"SORT (DATE) UTF-8 2:4 NOT FROM bob", []string{"* SORT 4 2"}, "OK"},
		{"SORT (DATE) UTF-8 SUBJECT nothing", []string{"* SORT"}, "OK"},
		// ESORT (RFC 5267).
		{"SORT RETURN (MIN MAX COUNT) (DATE) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") MIN 4 MAX 5 COUNT 5`}, "OK"},
		{"SORT RETURN (ALL) (REVERSE ARRIVAL) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") ALL 5,1,3,2,4`}, "OK"},
		{"UID SORT RETURN () (ARRIVAL) UTF-8 2:5", []string{`* ESEARCH (TAG "$tag") UID ALL 4,2:3,5`}, "OK"},
		{"SORT RETURN (COUNT MIN) (DATE) UTF-8 SUBJECT nothing", []string{`* ESEARCH (TAG "$tag") COUNT 0`}, "OK"},
		// SAVE keeps the result for "$" (RFC 5182), as a set.
		{"UID SORT RETURN (SAVE) (DATE) UTF-8 SUBJECT alpha", nil, "OK"}, // SAVE alone: no ESEARCH (RFC 5182 §2.4)
		{"SORT (REVERSE DATE) UTF-8 UID $", []string{"* SORT 2 3"}, "OK"},
		// Bad input.
		{"SORT () UTF-8 ALL", nil, "BAD"},
		{"SORT (REVERSE) UTF-8 ALL", nil, "BAD"},
		{"SORT (NEWEST) UTF-8 ALL", nil, "BAD"},
		{"SORT (DATE) UTF-8", nil, "BAD"},
		{"SORT DATE UTF-8 ALL", nil, "BAD"},
		{"SORT RETURN (BIGGEST) (DATE) UTF-8 ALL", nil, "BAD"},
		{"SORT (DATE) UTF-8 CHARSET UTF-8 ALL", nil, "BAD"},
		{"SORT (REVERSE REVERSE DATE) UTF-8 ALL", nil, "BAD"},
		{"SORT (DATE) UTF-8 YOUNGER 3600", nil, "NO [CANNOT]"},
		{"SORT (DATE) KOI8-R ALL", nil, "NO [BADCHARSET (UTF-8 US-ASCII)]"},
		{"NOOP", nil, "OK"},
	})
}

func TestSortEmptyAndStates(t *testing.T) {
	rc := sortSession(t, "sortempty", false)
	script(t, rc, []scriptStep{
		{"SORT (DATE) UTF-8 ALL", []string{"* SORT"}, "OK"},
		{"THREAD REFERENCES UTF-8 ALL", []string{"* THREAD"}, "OK"},
		{"SORT RETURN (MIN MAX ALL COUNT) (DATE) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") COUNT 0`}, "OK"},
		{"UNSELECT", nil, "OK"},
		{"SORT (DATE) UTF-8 ALL", nil, "BAD"},
		{"THREAD REFERENCES UTF-8 ALL", nil, "BAD"},
	})
	r := rc.cmd("c", "CAPABILITY")
	for _, want := range []string{" SORT ", " SORT=DISPLAY ", " ESORT ", " THREAD=ORDEREDSUBJECT ", " THREAD=REFERENCES "} {
		if !strings.Contains(r[0]+" ", want) {
			t.Errorf("%q not advertised: %s", strings.TrimSpace(want), r[0])
		}
	}
}
