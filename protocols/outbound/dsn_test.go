package outbound

import (
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/smtp"
)

func TestBuildDSNReturnHeaders(t *testing.T) {
	orig := []byte("Subject: secret\r\nMessage-ID: <m@x>\r\n\r\nbody text\r\n")
	now := time.Unix(1700000000, 0)
	dsn := string(BuildDSN(Report{
		ReportingMTA: "mx.example.test", Domain: "example.test", To: "alice@example.test", EnvID: "env-1",
		Arrival: now, Date: now, Return: "HDRS", Original: orig,
		Recipients: []DSNRecipient{{Address: "dave@remote.test", ORCPT: "rfc822;dave@remote.test", Action: "relayed",
			Status: "2.0.0", RemoteMTA: "sink.test", Diagnostic: "250 ok\r\nInjected: x"}},
	}))
	for _, want := range []string{
		"Content-Type: text/rfc822-headers", "Original-Envelope-Id: env-1",
		"Original-Recipient: rfc822;dave@remote.test", "Action: relayed", "Subject: Delivery Status Notification",
		"Diagnostic-Code: smtp; 250 ok  Injected: x",
	} {
		if !strings.Contains(dsn, want) {
			t.Errorf("DSN lacks %q:\n%s", want, dsn)
		}
	}
	if strings.Contains(dsn, "body text") {
		t.Error("RET=HDRS returned the body")
	}
	if strings.Contains(dsn, "\r\nInjected: x") {
		t.Error("a multi-line reply broke out of its field")
	}
}

func TestRelayQueueEvents(t *testing.T) {
	now := time.Unix(1700000000, 0)
	r := &Relay{Lifetime: time.Hour, Now: func() time.Time { return now }}
	evs, err := r.QueueEvents(smtp.Outbound{
		From: "alice@example.test", Recipients: []string{"a@remote.test", "b@remote.test"}, Blob: make([]byte, 32),
		Size: 10, User: "alice@example.test", EnvID: "E", Return: "hdrs",
		Params: []smtp.RecipientParams{{Notify: []string{"SUCCESS", "FAILURE"}, ORCPT: "rfc822;a@remote.test"}, {Notify: []string{"NEVER"}}},
	})
	if err != nil || len(evs) != 1 {
		t.Fatal(evs, err)
	}
	q := evs[0].GetQueued()
	if len(q.GetId()) != 16 || q.GetQueuedUnix() != now.Unix() || q.GetExpiresUnix() != now.Add(time.Hour).Unix() ||
		q.GetRet() != evlog.DsnReturn_DSN_RETURN_HEADERS || q.GetEnvid() != "E" {
		t.Fatalf("%v", q)
	}
	if n := q.GetRecipients()[0].GetNotify(); n != notifySuccess|notifyFailure || !wantsSuccessDSN(n) {
		t.Errorf("notify %b", n)
	}
	if n := q.GetRecipients()[1].GetNotify(); n != notifyNever || wantsFailureDSN(n) {
		t.Errorf("NEVER: %b", n)
	}
	if !wantsFailureDSN(0) {
		t.Error("no NOTIFY must mean FAILURE (RFC 3461 §4.1)")
	}
	if got := strings.Join(notifyNames(notifySuccess|notifyDelay), ","); got != "SUCCESS,DELAY" {
		t.Errorf("notifyNames %q", got)
	}
}

// A remote reply longer than a line may be (RFC 5322 §2.1.1: 998 octets)
// is folded and, past maxDiagnostic, truncated; a long word too.
func TestBuildDSNLongDiagnostic(t *testing.T) {
	now := time.Unix(1700000000, 0)
	for name, diag := range map[string]string{
		"words":    "550 5.7.1 " + strings.Repeat("policy rejection text ", 120),
		"one word": "550 5.7.1 " + strings.Repeat("x", 3000),
		"utf-8":    "550 5.7.1 " + strings.Repeat("é", 1500),
	} {
		dsn := string(BuildDSN(Report{
			ReportingMTA: "mx.example.test", Domain: "example.test", To: "alice@example.test",
			Date: now, Original: []byte("Subject: s\r\n\r\nb\r\n"),
			Recipients: []DSNRecipient{{Address: "dave@remote.test", Action: "failed", Status: "5.7.1", Diagnostic: diag}},
		}))
		for i, line := range strings.Split(dsn, "\r\n") {
			if len(line) > 998 {
				t.Errorf("%s: line %d is %d octets", name, i, len(line))
			}
			if !utf8.ValidString(line) {
				t.Errorf("%s: line %d is not UTF-8", name, i)
			}
		}
		if !strings.Contains(dsn, "Diagnostic-Code: smtp; 550") {
			t.Errorf("%s: no Diagnostic-Code", name)
		}
		if name == "words" {
			// RFC 5322 §2.2.3: folded in front of its spaces, within 78.
			_, field, _ := strings.Cut(dsn, "Diagnostic-Code:")
			lines := strings.Split(field, "\r\n")
			if !strings.HasPrefix(lines[1], " policy") || len("Diagnostic-Code:"+lines[0]) > 78 || len(lines[1]) > 78 {
				t.Errorf("Diagnostic-Code not folded: %q", lines[:2])
			}
		}
	}
}

// RFC 6533: a DSN about internationalised mail uses the global types and
// the utf-8 address type; ASCII mail keeps the RFC 3464 ones.
func TestBuildDSNGlobal(t *testing.T) {
	now := time.Unix(1700000000, 0)
	build := func(to, rcpt, ret string, orig string) string {
		return string(BuildDSN(Report{
			ReportingMTA: "mx.example.test", Domain: "example.test", To: to, Date: now, Return: ret,
			Original:   []byte(orig),
			Recipients: []DSNRecipient{{Address: rcpt, Action: "failed", Status: "5.1.1", Diagnostic: "550 5.1.1 unknown"}},
		}))
	}
	for name, dsn := range map[string]string{
		"utf-8 recipient": build("alice@example.test", "δοκιμή@παράδειγμα.test", "FULL", "Subject: hi\r\n\r\nb\r\n"),
		"utf-8 sender":    build("ålice@example.test", "dave@remote.test", "FULL", "Subject: hi\r\n\r\nb\r\n"),
		"utf-8 header":    build("alice@example.test", "dave@remote.test", "FULL", "Subject: café\r\n\r\nb\r\n"),
	} {
		for _, want := range []string{"Content-Type: message/global-delivery-status", "Content-Type: message/global\r\n"} {
			if !strings.Contains(dsn, want) {
				t.Errorf("%s: lacks %q", name, want)
			}
		}
		if strings.Contains(dsn, "message/delivery-status") || strings.Contains(dsn, "message/rfc822") {
			t.Errorf("%s: RFC 3464 types in a global DSN", name)
		}
	}
	if dsn := build("alice@example.test", "δοκιμή@παράδειγμα.test", "FULL", "S: x\r\n\r\n"); !strings.Contains(dsn, "Final-Recipient: utf-8; δοκιμή@παράδειγμα.test") {
		t.Errorf("utf-8 address type missing:\n%s", dsn)
	}
	if dsn := build("alice@example.test", "δ@x.test", "HDRS", "S: x\r\n\r\n"); !strings.Contains(dsn, "Content-Type: message/global-headers") {
		t.Errorf("RET=HDRS: no message/global-headers")
	}
	ascii := build("alice@example.test", "dave@remote.test", "FULL", "Subject: hi\r\n\r\nb\r\n")
	if !strings.Contains(ascii, "Content-Type: message/delivery-status") || !strings.Contains(ascii, "Final-Recipient: rfc822; dave@remote.test") ||
		!strings.Contains(ascii, "Content-Type: message/rfc822") {
		t.Errorf("ASCII DSN changed:\n%s", ascii)
	}
}

func TestDelayDue(t *testing.T) {
	for n, want := range map[uint32]bool{0: true, notifyDelay: true, notifyFailure | notifyDelay: true,
		notifyFailure: false, notifySuccess: false, notifyNever: false} {
		if wantsDelayDSN(n) != want {
			t.Errorf("NOTIFY bits %b: %v", n, !want)
		}
	}
	w := &Worker{cfg: Config{DelayWarning: 4 * time.Hour}}
	q0 := int64(1700000000)
	mark := q0 + 4*3600
	for _, tc := range []struct {
		last, now int64
		from      string
		want      bool
	}{
		{0, q0, "a@x.test", false},            // first attempt, early
		{q0, mark - 1, "a@x.test", false},     // not yet
		{mark - 60, mark, "a@x.test", true},   // this attempt crosses
		{mark, mark + 600, "a@x.test", false}, // already crossed and recorded
		{0, mark + 3600, "a@x.test", true},    // first attempt late (held)
		{mark - 60, mark + 1, "", false},      // never to the null sender
	} {
		q := &evlog.QueueRecord{QueuedUnix: q0, LastAttemptUnix: tc.last, MailFrom: tc.from}
		if got := w.delayDue(q, time.Unix(tc.now, 0)); got != tc.want {
			t.Errorf("last %d now %d from %q: %v", tc.last-q0, tc.now-q0, tc.from, got)
		}
	}
	if (&Worker{}).delayDue(&evlog.QueueRecord{QueuedUnix: q0, MailFrom: "a@x.test"}, time.Unix(mark, 0)) {
		t.Error("DelayWarning 0 sends delay DSNs")
	}
}
