package vacation

import (
	"strings"
	"testing"
)

const personal = "From: Bob <bob@remote.example>\r\nTo: Alice <alice@example.org>\r\nSubject: hi\r\nMessage-ID: <1@remote.example>\r\n\r\n"

func TestShouldReply(t *testing.T) {
	user := []string{"alice@example.org", "a.smith@example.net"}
	with := func(extra string) string { return strings.Replace(personal, "Subject:", extra+"\r\nSubject:", 1) }
	for _, tc := range []struct {
		name, header, from string
		want               string // "" for a reply
	}{
		{"personal", personal, "bob@remote.example", ""},
		{"angle brackets", personal, "<bob@remote.example>", ""},
		{"null sender", personal, "", ReasonNullSender},
		{"null sender <>", personal, "<>", ReasonNullSender},
		{"no domain", personal, "bob", ReasonBadSender},
		{"empty domain", personal, "bob@", ReasonBadSender},
		{"precedence auto_reply", with("Precedence: auto_reply"), "bob@remote.example", ReasonPrecedence},
		{"mailer-daemon", personal, "MAILER-DAEMON@remote.example", ReasonSystemSender},
		{"listserv", personal, "listserv@lists.example", ReasonSystemSender},
		{"majordomo", personal, "Majordomo@lists.example", ReasonSystemSender},
		{"owner-", personal, "owner-golang@lists.example", ReasonSystemSender},
		{"-request", personal, "golang-request@lists.example", ReasonSystemSender},
		{"own address", personal, "Alice@Example.ORG", ReasonOwnAddress},
		{"own address, detail", personal, "alice+x@example.org", ReasonOwnAddress},
		{"auto-submitted", with("Auto-Submitted: auto-replied"), "bob@remote.example", ReasonAutoSubmitted},
		{"auto-generated with params", with("Auto-Submitted: auto-generated; owner-email=x@y"), "bob@remote.example", ReasonAutoSubmitted},
		{"auto-submitted no", with("Auto-Submitted: No (comment)"), "bob@remote.example", ""},
		{"auto-submitted no; param", with("Auto-Submitted: no; x=y"), "bob@remote.example", ""},
		{"precedence bulk", with("Precedence: bulk"), "bob@remote.example", ReasonPrecedence},
		{"precedence list", with("Precedence:  LIST "), "bob@remote.example", ReasonPrecedence},
		{"precedence junk", with("Precedence: junk"), "bob@remote.example", ReasonPrecedence},
		{"precedence first-class", with("Precedence: first-class"), "bob@remote.example", ""},
		{"list-id", with("List-Id: Go <golang.lists.example>"), "bob@remote.example", ReasonList},
		{"list-unsubscribe", with("list-unsubscribe: <mailto:x@y>"), "bob@remote.example", ReasonList},
		{"list-post", with("List-Post: NO"), "bob@remote.example", ReasonList},
		{"x-auto-response-suppress", with("X-Auto-Response-Suppress: DR, OOF"), "bob@remote.example", ReasonSuppressed},
		{"x-auto-response-suppress all", with("X-Auto-Response-Suppress: All"), "bob@remote.example", ReasonSuppressed},
		{"x-auto-response-suppress rn", with("X-Auto-Response-Suppress: RN, NRN"), "bob@remote.example", ""},
		{"cc", "From: bob@remote.example\r\nTo: carol@example.org\r\nCc: \"A. Smith\" <A.Smith@example.net>\r\n\r\n", "bob@remote.example", ""},
		{"bcc only", "From: bob@remote.example\r\nTo: undisclosed-recipients:;\r\nBcc: alice@example.org\r\n\r\n", "bob@remote.example", ""},
		{"resent-to", "From: bob@remote.example\r\nTo: carol@example.org\r\nResent-To: alice@example.org\r\n\r\n", "bob@remote.example", ""},
		{"detail in To", "To: alice+work@example.org\r\n\r\n", "bob@remote.example", ""},
		{"group", "To: team: carol@example.org, alice@example.org;\r\n\r\n", "bob@remote.example", ""},
		{"not personal", "From: bob@remote.example\r\nTo: everyone@example.org\r\n\r\n", "bob@remote.example", ReasonNotPersonal},
		{"no recipients", "From: bob@remote.example\r\n\r\n", "bob@remote.example", ReasonNotPersonal},
		{"folded To", "To: carol@example.org,\r\n\talice@example.org\r\n\r\n", "bob@remote.example", ""},
		{"bare LF", "To: alice@example.org\n\n", "bob@remote.example", ""},
		{"sloppy To", "To: Alice <alice@example.org\r\n\r\n", "bob@remote.example", ""},
		{"unknown charset name", "To: =?x-unknown?q?A?= <alice@example.org>\r\n\r\n", "bob@remote.example", ""},
		// A malformed line does not hide the List-Id below it.
		{"garbage line", "To: alice@example.org\r\nthis is not a field\r\nList-Id: <l.example>\r\n\r\n", "bob@remote.example", ReasonList},
		// Fields after the header's end are the body's.
		{"list-id in body", "To: alice@example.org\r\n\r\nList-Id: <l.example>\r\n", "bob@remote.example", ""},
		{"obsolete space before colon", "To : alice@example.org\r\nPrecedence : bulk\r\n\r\n", "bob@remote.example", ReasonPrecedence},
	} {
		ok, reason := ShouldReply([]byte(tc.header), tc.from, user)
		if ok != (tc.want == "") || reason != tc.want {
			t.Errorf("%s: ShouldReply = %v, %q; want reason %q", tc.name, ok, reason, tc.want)
		}
	}
}

func TestShouldReplyNoAddresses(t *testing.T) {
	if ok, reason := ShouldReply([]byte(personal), "bob@remote.example", nil); ok || reason != ReasonNotPersonal {
		t.Errorf("no user addresses: %v, %q", ok, reason)
	}
}

func TestReadFields(t *testing.T) {
	fs := readFields([]byte("A: 1\r\nB:2\r\n  two\r\n\tthree\r\nbroken\r\n continuation of nothing\r\nC:\r\n\r\nD: body\r\n"))
	want := []field{{"A", "1"}, {"B", "2  two\tthree"}, {"C", ""}}
	if len(fs) != len(want) {
		t.Fatalf("readFields = %q, want %q", fs, want)
	}
	for i := range want {
		if fs[i] != want[i] {
			t.Errorf("field %d = %q, want %q", i, fs[i], want[i])
		}
	}
}
