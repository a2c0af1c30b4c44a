package imapext

import (
	"strconv"
	"strings"
	"testing"
)

// TestParseThreads: RFC 5256 §4's example, read back and named by
// Message-ID.
func TestParseThreads(t *testing.T) {
	ts := ParseThreads("* THREAD (2)(3 6 (4 23)(44 7 96))((8)(9))")
	ids := map[uint32]Ident{}
	for _, u := range []uint32{2, 3, 6, 4, 23, 44, 7, 96, 8, 9} {
		ids[u] = Ident{MessageID: "m" + itoa(u)}
	}
	var got []string
	for _, th := range ts {
		got = append(got, Describe(th, ids))
	}
	want := []string{"m2", "m3 (m6 (m4 (m23))(m44 (m7 (m96))))", "- (m8)(m9)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

func itoa(u uint32) string { return strconv.Itoa(int(u)) }

func TestFetchIdentLine(t *testing.T) {
	l := "* 3 FETCH (UID 17 BODY[HEADER.FIELDS (MESSAGE-ID SUBJECT)] {74}Subject: Re: Topic 1:\r\n alpha\r\nMessage-ID: <5.imapext@bench.example.test>\r\n\r\n)"
	uid, ok := fetchUID(l)
	if !ok || uid != 17 {
		t.Fatalf("fetchUID %d %v", uid, ok)
	}
	if s := headerValue(l, "Subject"); s != "Re: Topic 1: alpha" {
		t.Fatalf("subject %q", s)
	}
	if s := headerValue(l, "Message-ID"); s != "<5.imapext@bench.example.test>" {
		t.Fatalf("message-id %q", s)
	}
}
