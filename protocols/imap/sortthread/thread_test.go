package sortthread

import (
	"testing"
)

func threadString(msgs []Message, alg Algorithm) string {
	return string(AppendThreads(nil, Threads(msgs, alg)))
}

// keep returns msgs without the sequence numbers in drop, renumbered (an
// EXPUNGE).
func keep(msgs []Message, drop ...uint32) []Message {
	var out []Message
	for _, m := range msgs {
		gone := false
		for _, d := range drop {
			gone = gone || m.ID == d
		}
		if !gone {
			m.ID = uint32(len(out) + 1)
			out = append(out, m)
		}
	}
	return out
}

// TestThreadImaptest checks the answers imaptest's thread* scripts expect
// (Dovecot's) over their message sets.
func TestThreadImaptest(t *testing.T) {
	read := func(name string, n int) []Message {
		m := readMbox(t, name)
		if n > 0 {
			m = m[:n]
		}
		return m
	}
	for _, tc := range []struct {
		name string
		msgs []Message
		alg  Algorithm
		want string
	}{
		{"thread", read("thread.mbox", 0), References, "(3 2)(1)"},
		{"thread after expunge", keep(read("thread.mbox", 0), 1), References, "(2 1)"},
		{"thread2", read("thread2.mbox", 0), References, "(1)(2)"},
		{"thread3", read("thread3.mbox", 0), References, "(1 2)"},
		{"thread4", read("thread4.mbox", 0), References, "(1 2)"},
		{"thread5", read("thread5.mbox", 4), References, "(1 (2 4)(3))"},
		{"thread5 expunged", keep(read("thread5.mbox", 4), 1, 2), References, "(1)(2)"},
		{"thread5 appended", keep(read("thread5.mbox", 5), 1, 2), References, "(1)((2)(3))"},
		{"thread6", read("thread6.mbox", 0), References, "((1)(2))"},
		{"thread7", read("thread7.mbox", 0), References, "(1 (2 3)(4))"},
		{"thread7 expunged", keep(read("thread7.mbox", 0), 2), References, "(1 3 2)"},
		{"thread8", read("thread8.mbox", 2), References, "(1 2)"},
		{"thread8 expunged", keep(read("thread8.mbox", 2), 2), References, "(1)"},
		{"thread8 appended", keep(read("thread8.mbox", 3), 2), References, "(1 2)"},
		{"orderedsubject", read("thread-orderedsubject.mbox", 0), OrderedSubject,
			"(1)(2 (7)(12)(13))(3 (5)(11))(4)(6)(8)(9 10)(14)(15)"},
		{"orderedsubject2", read("thread-orderedsubject2.mbox", 0), OrderedSubject, "(4 (2)(8)(6))(3 (1)(7)(5))"},
	} {
		if got := threadString(tc.msgs, tc.alg); got != tc.want {
			t.Errorf("%s: THREAD %s = %s, want %s", tc.name, tc.alg, got, tc.want)
		}
	}
}

func msg(id uint32, sent int64, header string) Message {
	return Message{ID: id, Arrival: sent, Summary: Summarize([]byte(header + "\r\n\r\n"))}
}

// TestReferencesSteps exercises each step of RFC 5256 §3 REFERENCES.
func TestReferencesSteps(t *testing.T) {
	for _, tc := range []struct {
		name string
		msgs []Message
		want string
	}{
		{"chain", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nSubject: s"),
			msg(2, 2, "Message-ID: <b@x>\r\nReferences: <a@x>\r\nSubject: Re: s"),
			msg(3, 3, "Message-ID: <c@x>\r\nReferences: <a@x> <b@x>\r\nSubject: Re: s"),
		}, "(1 2 3)"},
		{"siblings sorted by date", []Message{
			msg(1, 1, "Message-ID: <a@x>"),
			msg(2, 9, "Message-ID: <b@x>\r\nIn-Reply-To: <a@x>"),
			msg(3, 5, "Message-ID: <c@x>\r\nIn-Reply-To: <a@x>"),
		}, "(1 (3)(2))"},
		{"missing parent: dummy kept at depth", []Message{
			msg(1, 1, "Message-ID: <a@x>"),
			msg(2, 2, "Message-ID: <c@x>\r\nReferences: <a@x> <b@x>"),
			msg(3, 3, "Message-ID: <d@x>\r\nReferences: <a@x> <b@x>"),
		}, "(1 (2)(3))"},
		{"loop refused", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nReferences: <b@x>"),
			msg(2, 2, "Message-ID: <b@x>\r\nReferences: <a@x>"),
		}, "(2 1)"},
		{"self reference", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nReferences: <a@x>"),
		}, "(1)"},
		{"subject gathering: reply under original", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nSubject: Re: hello"),
			msg(2, 2, "Message-ID: <b@x>\r\nSubject: hello"),
		}, "(2 1)"},
		{"subject gathering: two originals under a dummy", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nSubject: hello"),
			msg(2, 2, "Message-ID: <b@x>\r\nSubject: HELLO"),
			msg(3, 3, "Message-ID: <c@x>\r\nSubject: other"),
		}, "((1)(2))(3)"},
		{"In-Reply-To only when References has none", []Message{
			msg(1, 1, "Message-ID: <a@x>"),
			msg(2, 2, "Message-ID: <b@x>"),
			msg(3, 3, "Message-ID: <c@x>\r\nReferences: <a@x>\r\nIn-Reply-To: <b@x>"),
		}, "(1 3)(2)"},
	} {
		if got := threadString(tc.msgs, References); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// TestAppendThreads: RFC 5256 §4's example response.
func TestAppendThreads(t *testing.T) {
	threads := []*Thread{
		{ID: 2},
		{ID: 3, Children: []*Thread{{ID: 6, Children: []*Thread{
			{ID: 4, Children: []*Thread{{ID: 23}}},
			{ID: 44, Children: []*Thread{{ID: 7, Children: []*Thread{{ID: 96}}}}},
		}}}},
		{Children: []*Thread{{ID: 8}, {ID: 9}}},
	}
	if got := string(AppendThreads(nil, threads)); got != "(2)(3 6 (4 23)(44 7 96))((8)(9))" {
		t.Errorf("got %s", got)
	}
}

// TestRefs: THREAD=REFS against REFERENCES on the same messages: no
// gathering by subject, threads by their latest message, a dummy at the
// top sorting before a message of the same date (Dovecot's order).
func TestRefs(t *testing.T) {
	for _, tc := range []struct {
		name             string
		msgs             []Message
		references, refs string
	}{
		{"threads by their latest message", []Message{
			msg(1, 1, "Message-ID: <a@x>"),
			msg(2, 2, "Message-ID: <b@x>"),
			msg(3, 3, "Message-ID: <c@x>\r\nIn-Reply-To: <a@x>"),
		}, "(1 3)(2)", "(2)(1 3)"},
		{"no gathering by subject", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nSubject: Re: hello"),
			msg(2, 2, "Message-ID: <b@x>\r\nSubject: hello"),
		}, "(2 1)", "(1)(2)"},
		{"siblings by sent date, at every level", []Message{
			msg(1, 1, "Message-ID: <a@x>"),
			msg(2, 9, "Message-ID: <b@x>\r\nIn-Reply-To: <a@x>"),
			msg(3, 5, "Message-ID: <c@x>\r\nIn-Reply-To: <a@x>"),
			msg(4, 7, "Message-ID: <d@x>\r\nReferences: <a@x> <c@x>"),
			msg(5, 6, "Message-ID: <e@x>\r\nReferences: <a@x> <c@x>"),
		}, "(1 (3 (5)(4))(2))", "(1 (3 (5)(4))(2))"},
		{"a dummy at the top sorts as uid 0", []Message{
			msg(1, 5, "Message-ID: <d@x>"),
			msg(2, 5, "Message-ID: <c@x>\r\nReferences: <gone@x>"),
		}, "(1)(2)", "(2)(1)"},
		{"dummy with two children", []Message{
			msg(1, 4, "Message-ID: <c@x>\r\nReferences: <gone@x>"),
			msg(2, 2, "Message-ID: <d@x>\r\nReferences: <gone@x>"),
			msg(3, 3, "Message-ID: <e@x>"),
		}, "((2)(1))(3)", "(3)((2)(1))"},
		{"loop refused", []Message{
			msg(1, 1, "Message-ID: <a@x>\r\nReferences: <b@x>"),
			msg(2, 2, "Message-ID: <b@x>\r\nReferences: <a@x>"),
		}, "(2 1)", "(2 1)"},
	} {
		if got := threadString(tc.msgs, References); got != tc.references {
			t.Errorf("%s: REFERENCES %s, want %s", tc.name, got, tc.references)
		}
		if got := threadString(tc.msgs, Refs); got != tc.refs {
			t.Errorf("%s: REFS %s, want %s", tc.name, got, tc.refs)
		}
	}
	if a, ok := ParseAlgorithm("refs"); !ok || a != Refs || a.String() != "REFS" {
		t.Errorf("ParseAlgorithm(refs) = %v, %v", a, ok)
	}
}
