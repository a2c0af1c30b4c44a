package imap

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// TestImaplibSortThread: Python's imaplib (sort(), thread(), uid() and a
// raw ESORT command) against the server, over implicit TLS.
func TestImaplibSortThread(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "imaplibsort", password)
	type message struct {
		Date string `json:"date"`
		Body string `json:"body"`
	}
	var msgs []message
	for _, m := range sortFixture {
		msgs = append(msgs, message{Date: fmt.Sprintf(`"01-Jan-2026 00:%02d:00 +0000"`, m.minute),
			Body: m.header + "\r\n\r\nbody\r\n"})
	}
	in, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	out := runImaplib(t, c, in, "imaplib_sort.py", user, password)
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	for key, want := range map[string]string{
		"sort_date":                 `["OK",["4","3","2","1","5"]]`,
		"sort_reverse_subject":      `["OK",["5","4","1","2","3"]]`,
		"uid_sort_displayfrom":      `["OK",["2","5","3","4","1"]]`,
		"thread_references":         `["OK",["(3 2 5)(1 4)"]]`,
		"uid_thread_orderedsubject": `["OK",["(4 1)(3 2)(5)"]]`,
		"thread_refs":               `["OK",["(4)(1)(3 2 5)"]]`,
		"esort":                     `["OK",["MIN 4 MAX 5 COUNT 5"]]`,
	} {
		if b, _ := json.Marshal(got[key]); string(b) != want {
			t.Errorf("%s: %s, want %s", key, b, want)
		}
	}
	if b, _ := json.Marshal(got["badcharset"]); !strings.Contains(string(b), "BADCHARSET") {
		t.Errorf("KOI8-R: %s", b)
	}
	caps, _ := json.Marshal(got["capabilities"])
	for _, want := range []string{"SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES"} {
		if !strings.Contains(string(caps), `"`+want+`"`) {
			t.Errorf("imaplib does not see %s: %s", want, caps)
		}
	}
}
