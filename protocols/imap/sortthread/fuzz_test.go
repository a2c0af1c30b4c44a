package sortthread

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"
)

func FuzzBaseSubject(f *testing.F) {
	for _, s := range []string{"Re: [fwd: [list] Re: hello]", "[foo] Fwd: [bar] Re: fw: b (fWd)  (fwd)",
		"=?utf-8?q?R=C3=A9sum=C3=A9?=", "[fwd:]", "[[]]", "re [x]:", "\t\r\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		base, _ := BaseSubject(s)
		if strings.HasPrefix(base, " ") || strings.HasSuffix(base, " ") || strings.Contains(base, "  ") {
			t.Errorf("BaseSubject(%q) = %q: white space left", s, base)
		}
		if utf8.ValidString(s) && !strings.Contains(s, "=?") && !utf8.ValidString(Collate(base)) {
			t.Errorf("Collate(%q) is not UTF-8", base)
		}
	})
}

func FuzzFirstAddress(f *testing.F) {
	for _, s := range []string{"Foo <a@b>", "a@b (x)", "g: a@b, c@d;", `"x\" y" <@r:a@[1.2.3.4]>`, "((((", "<<<@@@"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := FirstAddress(s)
		if !ok && a != (Address{}) {
			t.Errorf("FirstAddress(%q) = %+v and not ok", s, a)
		}
		_ = displayKey(a, ok)
	})
}

func FuzzMessageIDs(f *testing.F) {
	for _, s := range []string{"<a@b> <c@d>", `<"x"@y>`, "(<a@b>) <c@d", "<\\", `"<a@b>`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, id := range MessageIDs(s, 0) {
			if id == "" || !strings.Contains(id, "@") || strings.ContainsAny(id, " \t\r\n<>") {
				t.Errorf("MessageIDs(%q): invalid %q", s, id)
			}
		}
	})
}

func FuzzParseFields(f *testing.F) {
	f.Add([]byte("Subject: a\r\n b\r\nFrom: x@y\r\n\r\nbody"))
	f.Add([]byte(":\n \n\t\nTo"))
	f.Fuzz(func(t *testing.T, h []byte) {
		s := Summarize(h)
		_, _ = SentDate(ParseFields(h).Date)
		if s.MessageID != "" && !strings.Contains(s.MessageID, "@") {
			t.Errorf("message id %q", s.MessageID)
		}
	})
}

// FuzzThreads builds messages whose identifiers, references, subjects and
// dates come from the input, and checks that every algorithm answers
// every message exactly once, that REFERENCES leaves no dummy with fewer
// than two children and REFS none without one, and dummies only at the
// top.
func FuzzThreads(f *testing.F) {
	f.Add([]byte{1, 2, 3, 4, 5, 6, 7, 8, 9})
	f.Add([]byte{0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2})
	f.Add([]byte("references form loops and dummies"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var msgs []Message
		for i := 0; i+3 < len(data) && len(msgs) < 64; i += 4 {
			id, ref1, ref2, misc := data[i]%16, data[i+1]%16, data[i+2]%16, data[i+3]
			h := fmt.Sprintf("Message-ID: <%d@x>\r\nReferences: <%d@x> <%d@x>\r\nSubject: %s%d\r\n",
				id, ref1, ref2, []string{"", "Re: ", "Fwd: ", "[l] "}[misc%4], misc/64)
			if misc&8 != 0 {
				h = fmt.Sprintf("Message-ID: <%d@x>\r\nIn-Reply-To: <%d@x>\r\n", id, ref1)
			}
			msgs = append(msgs, Message{ID: uint32(len(msgs) + 1), Arrival: int64(misc % 5),
				Summary: Summarize([]byte(h))})
		}
		for _, alg := range []Algorithm{References, OrderedSubject, Refs} {
			seen := map[uint32]int{}
			var walk func([]*Thread, bool)
			walk = func(ts []*Thread, top bool) {
				for _, th := range ts {
					if th.ID == 0 {
						if alg == OrderedSubject || !top || len(th.Children) == 0 || alg == References && len(th.Children) < 2 {
							t.Errorf("%s: dummy with %d children (top %v)", alg, len(th.Children), top)
						}
					} else {
						seen[th.ID]++
					}
					walk(th.Children, false)
				}
			}
			walk(Threads(msgs, alg), true)
			for _, m := range msgs {
				if seen[m.ID] != 1 {
					t.Fatalf("%s: message %d answered %d times", alg, m.ID, seen[m.ID])
				}
			}
			if len(seen) != len(msgs) {
				t.Fatalf("%s: %d answered, %d messages", alg, len(seen), len(msgs))
			}
		}
	})
}
