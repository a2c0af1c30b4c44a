package faults

import (
	"strings"
	"testing"
)

// TestCompareMail feeds hand-made INBOXes to the comparison: each broken
// one must be reported, so the mail check can fail.
func TestCompareMail(t *testing.T) {
	ledger := NewLedger()
	for _, m := range []SentMessage{
		{MessageID: "<a>", Rcpts: []string{"u1"}, Outcome: Acked},
		{MessageID: "<b>", Rcpts: []string{"u1", "u2"}, Outcome: Acked},
		{MessageID: "<c>", Rcpts: []string{"u2"}, Outcome: Refused, Stage: "RCPT"},
		{MessageID: "<d>", Rcpts: []string{"u1"}, Outcome: Unknown},
		{MessageID: "<e>", Rcpts: []string{"u1", "u2"}, Outcome: TempFailed},
		{MessageID: "<f>", Rcpts: []string{"u9"}, Outcome: Acked}, // not a checked user
	} {
		ledger.record(m)
	}
	msg := func(uid uint32, id string) FinalMessage { return FinalMessage{UID: uid, MessageID: id} }
	good := func() map[string][][]FinalMessage {
		return map[string][][]FinalMessage{
			"u1": {{msg(1, "<a>"), msg(2, "<b>")}, {msg(1, "<a>"), msg(2, "<b>")}},
			"u2": {{msg(1, "<b>")}, {msg(1, "<b>")}},
		}
	}
	tests := []struct {
		name    string
		edit    func(map[string][][]FinalMessage)
		want    []string // substrings of the problems; none: no problem
		present map[Outcome]int
	}{
		{"consistent", func(map[string][][]FinalMessage) {}, nil, nil},
		{"unknown outcome present once", func(in map[string][][]FinalMessage) {
			in["u1"][0] = append(in["u1"][0], msg(3, "<d>"))
			in["u1"][1] = append(in["u1"][1], msg(3, "<d>"))
		}, nil, map[Outcome]int{Unknown: 1}},
		{"acknowledged message lost on one node", func(in map[string][][]FinalMessage) {
			in["u1"][1] = in["u1"][1][1:]
		}, []string{"<a>: UIDs differ", "<a>: acknowledged (250 via ) but present 0 times in u1's INBOX on n2"}, nil},
		{"acknowledged message duplicated", func(in map[string][][]FinalMessage) {
			for i := range in["u1"] {
				in["u1"][i] = append(in["u1"][i], msg(3, "<a>"))
			}
		}, []string{"present 2 times in u1's INBOX on n1", "present 2 times in u1's INBOX on n2"}, nil},
		{"UIDs differ between nodes", func(in map[string][][]FinalMessage) {
			in["u2"][1][0].UID = 5
		}, []string{"u2 <b>: UIDs differ between nodes: n1 has [1], n2 has [5]"}, nil},
		{"refused message present", func(in map[string][][]FinalMessage) {
			in["u2"][0] = append(in["u2"][0], msg(2, "<c>"))
			in["u2"][1] = append(in["u2"][1], msg(2, "<c>"))
		}, []string{"<c>: refused at RCPT", "present 1 times in u2's INBOX on n1"}, nil},
		{"message never sent", func(in map[string][][]FinalMessage) {
			in["u1"][0] = append(in["u1"][0], msg(3, "<zzz>"))
			in["u1"][1] = append(in["u1"][1], msg(3, "<zzz>"))
		}, []string{"u1 <zzz>: present (UIDs [3] on n1) but never sent"}, nil},
		{"message for another user", func(in map[string][][]FinalMessage) {
			in["u1"][0] = append(in["u1"][0], msg(3, "<c>"))
			in["u1"][1] = append(in["u1"][1], msg(3, "<c>"))
		}, []string{"u1 <c>: present but sent only to [u2]"}, nil},
		{"unknown outcome present twice", func(in map[string][][]FinalMessage) {
			for i := range in["u1"] {
				in["u1"][i] = append(in["u1"][i], msg(3, "<d>"), msg(4, "<d>"))
			}
		}, []string{"<d>: unknown but present 2 times in u1's INBOX on n1"}, nil},
		{"delivered to some recipients only", func(in map[string][][]FinalMessage) {
			in["u2"][0] = append(in["u2"][0], msg(2, "<e>"))
			in["u2"][1] = append(in["u2"][1], msg(2, "<e>"))
		}, []string{"<e> (4xx via ): delivered to 1 of its 2 recipients"}, nil},
		{"message without Message-ID", func(in map[string][][]FinalMessage) {
			in["u2"][0] = append(in["u2"][0], msg(7, ""))
		}, []string{"n1: u2 INBOX UID 7 has no Message-ID"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := good()
			tt.edit(in)
			rep := CompareMail([]string{"n1", "n2"}, in, ledger)
			all := strings.Join(rep.Problems, "\n")
			if len(tt.want) == 0 && len(rep.Problems) > 0 {
				t.Fatalf("unexpected problems:\n%s", all)
			}
			if len(tt.want) > 0 && len(rep.Problems) == 0 {
				t.Fatalf("no problem reported, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(all, w) {
					t.Errorf("problems do not mention %q:\n%s", w, all)
				}
			}
			for o, n := range tt.present {
				if rep.Present[o] != n {
					t.Errorf("present %s = %d, want %d", o, rep.Present[o], n)
				}
			}
		})
	}
}

func TestHeaderValue(t *testing.T) {
	tests := []struct{ block, want string }{
		{"Message-ID: <a@b>\r\n\r\n", "<a@b>"},
		{"message-id:   <a@b>  \r\n\r\n", "<a@b>"},
		{"Message-Id:\r\n <folded@b>\r\n\r\n", "<folded@b>"},
		{"Subject: x\r\n\r\n", ""},
	}
	for _, tt := range tests {
		if got := headerValue([]byte(tt.block), "Message-ID"); got != tt.want {
			t.Errorf("headerValue(%q) = %q, want %q", tt.block, got, tt.want)
		}
	}
}
