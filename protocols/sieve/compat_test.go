package sieve

import (
	"strings"
	"testing"
)

// Scripts in the shapes mail clients generate (written for this test
// after the forms Roundcube's managesieve plugin and Thunderbird's Sieve
// add-on produce: rule comments, CRLF, allof around single tests,
// vacation inside a date range).
var clientScripts = []struct {
	name, src, want string
}{
	{"roundcube rules", strings.ReplaceAll(`require ["fileinto","imap4flags","copy","vacation","date","relational","body","regex"];
# rule:[projects]
if allof (header :contains "subject" "[acme-users]")
{
	fileinto :copy "INBOX.acme";
	addflag "\\Flagged";
	stop;
}
# rule:[spam]
if anyof (header :regex "subject" "v[i1]agra", body :text :contains "unsubscribe here")
{
	fileinto "Junk";
	stop;
}
`, "\n", "\r\n"), "KEEP,INBOX.acme"},
	{"roundcube vacation", strings.ReplaceAll(`require ["vacation","date","relational"];
# rule:[away]
if allof (currentdate :zone "+0100" :value "ge" "iso8601" "2026-12-01T00:00:00+01:00", currentdate :zone "+0100" :value "le" "iso8601" "2026-12-31T23:59:59+01:00")
{
	vacation :days 1 :addresses ["bob@example.com"] :subject "=?UTF-8?B?QXdheQ==?=" :from "Bob <bob@example.com>" text:
I am away.
..
.
;
}
`, "\n", "\r\n"), "KEEP"},
	{"thunderbird", `require ["fileinto", "reject"];

/* Filter lists */
if header :matches "List-ID" "*acme-users*"
{
  fileinto "Lists/Acme";
}
elsif address :is :domain "from" "spam.example"
{
  reject "No.";
}
`, "Lists/Acme"},
	{"forward and keep", `require ["copy"];
redirect :copy "bob@elsewhere.example";
`, "KEEP"},
}

func TestClientScripts(t *testing.T) {
	for _, c := range clientScripts {
		r := run(t, c.src)
		if got := mailboxes(r); got != c.want {
			t.Errorf("%s: %q, want %q (%q)", c.name, got, c.want, r.Log)
		}
	}
	r := run(t, clientScripts[1].src)
	if r.Vacation == nil || r.Vacation.Reason != "I am away.\r\n.\r\n" || r.Vacation.Subject != "Away" {
		t.Fatalf("vacation %+v", r.Vacation)
	}
}
