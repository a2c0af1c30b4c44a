package rspamd

import (
	"errors"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// A reply of rspamd 3.4 (Debian), as the real-daemon test sees it.
const rejectReply = `{"is_skipped":false,"score":100.0,"required_score":15.0,"action":"reject","symbols":{"SURAT_TEST_REJECT":{"name":"SURAT_TEST_REJECT","score":100.0,"metric_score":100.0,"description":"Surat test: reject by subject"}},"messages":{},"message-id":"1@x","time_real":0.497133}`

// TestParseReply reads rspamd's replies and refuses what it cannot map.
func TestParseReply(t *testing.T) {
	r, err := ParseReply([]byte(rejectReply))
	if err != nil || r.Action != ActionReject || r.Score != 100 || r.RequiredScore != 15 || r.Symbols["SURAT_TEST_REJECT"].Score != 100 {
		t.Fatalf("reject: %+v, %v", r, err)
	}
	r, err = ParseReply([]byte(`{"score":0.0,"required_score":15.0,"action":"soft reject","symbols":{},"messages":{"smtp_message":"Try again\r\nlater (test)"}}`))
	if err != nil || r.Action != ActionSoftReject || r.SMTPMessage != "Try again  later (test)" {
		t.Fatalf("soft reject: %+v, %v", r, err)
	}
	for _, bad := range []string{``, `{}`, `[]`, `{"action":"explode"}`, `{"action":"reject","score":"x"}`, `{"action":"reject"`, `null`} {
		if r, err := ParseReply([]byte(bad)); !errors.Is(err, ErrBadReply) {
			t.Errorf("ParseReply(%q) = %+v, %v; want ErrBadReply", bad, r, err)
		}
	}
}

// TestOutcome: each action's decision, reply and facts.
func TestOutcome(t *testing.T) {
	for _, tc := range []struct {
		action string
		msg    string
		want   pipeline.Action
		code   int
		text   string
	}{
		{ActionNoAction, "", pipeline.Deliver, 0, ""},
		{ActionAddHeader, "", pipeline.Junk, 0, ""},
		{ActionRewriteSubject, "", pipeline.Junk, 0, ""},
		{ActionQuarantine, "", pipeline.Junk, 0, ""},
		{ActionGreylist, "", pipeline.Refuse, 451, "Greylisted, try again later"},
		{ActionSoftReject, "", pipeline.Refuse, 451, "Try again later"},
		{ActionSoftReject, "Come back in 5 minutes", pipeline.Refuse, 451, "Come back in 5 minutes"},
		{ActionReject, "", pipeline.Refuse, 550, "Spam message rejected"},
		{ActionDiscard, "", pipeline.Refuse, 550, "Spam message rejected"},
	} {
		o := outcome(&Reply{Action: tc.action, Score: 7.5, RequiredScore: 15, SMTPMessage: tc.msg,
			Symbols: map[string]Symbol{"A": {Score: 1}, "B": {Score: 6.5}}})
		if o.Action != tc.want {
			t.Errorf("%s: action %v, want %v", tc.action, o.Action, tc.want)
		}
		if tc.code != 0 {
			r := o.Reply
			if r == nil || r.Code != tc.code || r.Enhanced != [3]int{tc.code / 100, 7, 1} || r.Text != tc.text {
				t.Errorf("%s: reply %v, want %d %s", tc.action, r, tc.code, tc.text)
			}
		} else if o.Reply != nil {
			t.Errorf("%s: a reply %v", tc.action, o.Reply)
		}
		want := "rspamd=" + strings.ReplaceAll(tc.action, " ", "_")
		if len(o.Facts) != 2 || o.Facts[0] != want || o.Facts[1] != "rspamd.score=7.50" {
			t.Errorf("%s: facts %q", tc.action, o.Facts)
		}
		if !strings.HasSuffix(o.Note, "score=7.50/15.00 B(6.50),A(1.00)") {
			t.Errorf("%s: note %q", tc.action, o.Note)
		}
	}
}

// FuzzParseReply: any bytes give a known action and a one-line message,
// or ErrBadReply.
func FuzzParseReply(f *testing.F) {
	f.Add([]byte(rejectReply))
	f.Add([]byte(`{"action":"no action","score":-1.5,"messages":{"smtp_message":"x"}}`))
	f.Add([]byte(`{"action":"greylist","messages":{"smtp_message":7}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ParseReply(data)
		if err != nil {
			if !errors.Is(err, ErrBadReply) {
				t.Fatalf("error %v is not ErrBadReply", err)
			}
			return
		}
		if !knownActions[r.Action] {
			t.Fatalf("unknown action %q accepted", r.Action)
		}
		if strings.ContainsAny(r.SMTPMessage, "\r\n") || len(r.SMTPMessage) > 200 {
			t.Fatalf("smtp_message %q", r.SMTPMessage)
		}
		o := outcome(r)
		if o.Action == pipeline.Refuse && (o.Reply == nil || o.Reply.Text == "") {
			t.Fatalf("refused without a reply: %+v", o)
		}
		for _, fact := range o.Facts {
			if strings.ContainsAny(fact, " \t") {
				t.Fatalf("fact %q holds a space", fact)
			}
		}
	})
}
