package imap

import "testing"

func TestThreadCommand(t *testing.T) {
	rc := sortSession(t, "threadcmd", true)
	script(t, rc, []scriptStep{
		// 2 replies to 3, 5 to 2; 4 is a reply to 1 by its subject;
		// threads go by their first message's sent date.
		{"THREAD REFERENCES UTF-8 ALL", []string{"* THREAD (3 2 5)(1 4)"}, "OK"},
		{"UID THREAD REFERENCES UTF-8 ALL", []string{"* THREAD (3 2 5)(1 4)"}, "OK"},
		// Without 2, 5 still hangs under 3 (its References name both).
		{"thread references utf-8 NOT SUBJECT Re", []string{"* THREAD (3 5)(1)"}, "OK"},
		{"THREAD ORDEREDSUBJECT UTF-8 ALL", []string{"* THREAD (4 1)(3 2)(5)"}, "OK"},
		// REFS: no gathering by subject, threads by their latest
		// message (4 has no Date: its arrival, the earliest).
		{"UID THREAD REFS UTF-8 ALL", []string{"* THREAD (4)(1)(3 2 5)"}, "OK"},
		{"THREAD ORDEREDSUBJECT US-ASCII SUBJECT nothing", []string{"* THREAD"}, "OK"},
		{"THREAD FOO UTF-8 ALL", nil, "BAD"},
		{"THREAD REFERENCES", nil, "BAD"},
		{"THREAD REFERENCES UTF-8", nil, "BAD"},
		{"THREAD REFERENCES BIG5-HKSCS ALL", nil, "NO [BADCHARSET (UTF-8 US-ASCII)]"},
		{"NOOP", nil, "OK"},
	})
}
