package imap

import (
	"fmt"
	"strings"
	"testing"
)

// contextSessions logs a new user in twice over raw connections: the
// first session appends sortFixture to INBOX; both select it. The
// watcher keeps search contexts (RFC 5267 §4), the other changes the
// mailbox.
func contextSessions(t *testing.T, prefix string) (watcher, other *rawConn) {
	t.Helper()
	c := sharedCluster(t)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	user := c.NewUser(t, prefix, password)
	other = dialRawTLS(t, implicit, user)
	t.Cleanup(func() { other.conn.Close() })
	for i, m := range sortFixture {
		body := m.header + "\r\n\r\nbody\r\n"
		date := fmt.Sprintf(`"01-Jan-2026 00:%02d:00 +0000"`, m.minute)
		other.must(fmt.Sprintf("a%d", i), fmt.Sprintf("APPEND INBOX %s {%d+}\r\n%s", date, len(body), body))
	}
	other.must("s", "SELECT INBOX")
	watcher = dialRawTLS(t, implicit, user)
	t.Cleanup(func() { watcher.conn.Close() })
	watcher.must("s", "SELECT INBOX")
	return watcher, other
}

// updatesAfter sends line on rc and returns its untagged responses
// except FETCH and RECENT (the flag updates the contexts come with),
// then the tagged reply.
func updatesAfter(t *testing.T, rc *rawConn, tag, line string) []string {
	t.Helper()
	var out []string
	for _, l := range rc.cmd(tag, line) {
		if strings.Contains(l, " FETCH (") || strings.HasSuffix(l, " RECENT") {
			continue
		}
		out = append(out, l)
	}
	return out
}

func expectLines(t *testing.T, what string, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("%s:\n got %q\nwant %q", what, got, want)
		return
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("%s:\n got %q\nwant %q", what, got, want)
			return
		}
	}
}

// TestContextUpdate: SEARCH, UID SEARCH and UID SORT with RETURN (UPDATE)
// keep their results current as another session changes flags, expunges
// and appends (RFC 5267 §4.3): ADDTO and REMOVEFROM, position 0 for
// SEARCH, sort positions for SORT, REMOVEFROM before the EXPUNGE it comes
// with and numbered before it, ADDTO after EXISTS; CANCELUPDATE ends a
// context (§4.5).
func TestContextUpdate(t *testing.T) {
	w, o := contextSessions(t, "ctxupd")
	if !strings.Contains(w.cmd("c", "CAPABILITY")[0], " CONTEXT=SEARCH CONTEXT=SORT") {
		t.Fatal("CONTEXT=SEARCH CONTEXT=SORT not advertised")
	}
	// Arrival order (sortFixture): 4 2 3 1 5. Nothing is \Seen yet.
	expectLines(t, "UID SEARCH UPDATE", updatesAfter(t, w, "a", `UID SEARCH RETURN (UPDATE ALL) SEEN`),
		`* ESEARCH (TAG "a") UID`, `a OK`)
	expectLines(t, "SEARCH UPDATE", updatesAfter(t, w, "q", `SEARCH RETURN (UPDATE) UNSEEN`),
		`* ESEARCH (TAG "q")`, `q OK`) // UPDATE alone: no ALL
	expectLines(t, "UID SORT UPDATE", updatesAfter(t, w, "r", `UID SORT RETURN (UPDATE ALL) (ARRIVAL) UTF-8 SEEN`),
		`* ESEARCH (TAG "r") UID`, `r OK`)

	o.must("b", `STORE 1,2,4 +FLAGS (\Seen)`)
	expectLines(t, "after +Seen", updatesAfter(t, w, "n1", "NOOP"),
		`* ESEARCH (TAG "q") REMOVEFROM (0 1:2,4)`,
		`* ESEARCH (TAG "a") UID ADDTO (0 1:2,4)`,
		`* ESEARCH (TAG "r") UID ADDTO (1 4) ADDTO (2 2) ADDTO (3 1)`,
		`n1 OK`)

	o.must("c", `STORE 2 -FLAGS (\Seen)`)
	expectLines(t, "after -Seen", updatesAfter(t, w, "n2", "NOOP"),
		`* ESEARCH (TAG "a") UID REMOVEFROM (0 2)`,
		`* ESEARCH (TAG "r") UID REMOVEFROM (2 2)`,
		`* ESEARCH (TAG "q") ADDTO (0 2)`,
		`n2 OK`)

	// Expunged by the other session: REMOVEFROM, then EXPUNGE.
	o.must("d", `STORE 1,3 +FLAGS (\Deleted)`)
	o.must("e", `EXPUNGE`)
	expectLines(t, "after EXPUNGE", updatesAfter(t, w, "n3", "NOOP"),
		`* ESEARCH (TAG "a") UID REMOVEFROM (0 1)`,
		`* ESEARCH (TAG "q") REMOVEFROM (0 3)`,
		`* ESEARCH (TAG "r") UID REMOVEFROM (2 1)`,
		`* 3 EXPUNGE`, `* 1 EXPUNGE`,
		`n3 OK`)

	// Appended (arrival 00:05: after 4, before 2): ADDTO after EXISTS,
	// in the numbers the client knows by then. UIDs 2 4 5 6 are
	// sequence numbers 1 2 3 4.
	body := "Subject: new\r\n\r\nx\r\n"
	o.must("f", fmt.Sprintf(`APPEND INBOX (\Seen) "01-Jan-2026 00:05:00 +0000" {%d+}`+"\r\n%s", len(body), body))
	expectLines(t, "after APPEND", updatesAfter(t, w, "n4", "NOOP"),
		`* 4 EXISTS`,
		`* ESEARCH (TAG "a") UID ADDTO (0 6)`,
		`* ESEARCH (TAG "r") UID ADDTO (2 6)`,
		`n4 OK`)
	// Its own changes too, in its own command's answer; SEARCH's numbers
	// are sequence numbers.
	expectLines(t, "own STORE", updatesAfter(t, w, "st", `STORE 3 +FLAGS (\Seen)`),
		`* ESEARCH (TAG "q") REMOVEFROM (0 3)`,
		`* ESEARCH (TAG "a") UID ADDTO (0 5)`,
		`* ESEARCH (TAG "r") UID ADDTO (3 5)`,
		`st OK`)
	// A new search with a context's tag is BAD (as Dovecot).
	expectLines(t, "duplicate tag", updatesAfter(t, w, "a", `UID SEARCH RETURN (UPDATE) SEEN`), `a BAD`)

	// CANCELUPDATE ends contexts; an unknown tag is BAD and ends none.
	expectLines(t, "CANCELUPDATE unknown", updatesAfter(t, w, "x", `CANCELUPDATE "a" "zz"`), `x BAD`)
	w.must("y", `CANCELUPDATE "a" "r"`)
	o.must("g", `STORE 1 +FLAGS (\Seen)`)
	expectLines(t, "after CANCELUPDATE", updatesAfter(t, w, "n5", "NOOP"),
		`* ESEARCH (TAG "q") REMOVEFROM (0 1)`,
		`n5 OK`)
	expectLines(t, "CANCELUPDATE twice", updatesAfter(t, w, "z", `CANCELUPDATE "a"`), `z BAD`)

	// SELECT ends the remaining contexts.
	w.must("s2", "SELECT INBOX")
	o.must("h", `STORE 1:* -FLAGS (\Seen)`)
	expectLines(t, "after SELECT", updatesAfter(t, w, "n6", "NOOP"), `n6 OK`)
	expectLines(t, "CANCELUPDATE after SELECT", updatesAfter(t, w, "z2", `CANCELUPDATE "q"`), `z2 BAD`)
}

// TestContextOwnExpunge: the session's own EXPUNGE sends REMOVEFROM before
// its EXPUNGE responses, numbered as the client still numbers the
// messages (RFC 5267 §4.3).
func TestContextOwnExpunge(t *testing.T) {
	w, _ := contextSessions(t, "ctxexp")
	w.must("a", `SEARCH RETURN (UPDATE) DELETED`)
	w.must("b", `UID SORT RETURN (UPDATE) (REVERSE ARRIVAL) UTF-8 ALL`)
	expectLines(t, "STORE", updatesAfter(t, w, "c", `STORE 2,5 +FLAGS (\Deleted)`),
		`* ESEARCH (TAG "a") ADDTO (0 2,5)`, `c OK`)
	// REVERSE ARRIVAL: 5 1 3 2 4; 2 is at position 4, 5 at 1.
	expectLines(t, "EXPUNGE", updatesAfter(t, w, "d", `EXPUNGE`),
		`* ESEARCH (TAG "a") REMOVEFROM (0 2,5)`,
		`* ESEARCH (TAG "b") UID REMOVEFROM (4 2) REMOVEFROM (1 5)`,
		`* 5 EXPUNGE`, `* 2 EXPUNGE`, `d OK`)
	// UNSELECT ends the contexts too.
	w.must("e", "UNSELECT")
	w.must("f", "SELECT INBOX")
	expectLines(t, "STORE after UNSELECT", updatesAfter(t, w, "g", `STORE 1 +FLAGS (\Deleted)`), `g OK`)
	expectLines(t, "CANCELUPDATE after UNSELECT", updatesAfter(t, w, "h", `CANCELUPDATE "a"`), `h BAD`)
}

// TestContextNoUpdate: contexts are refused with OK [NOUPDATE "tag"] and
// the result (RFC 5267 §4.3.1) where a change cannot be evaluated on the
// changed message alone (sequence numbers, "*", "$", RECENT, WITHIN),
// with PARTIAL, and beyond the session's limit.
func TestContextNoUpdate(t *testing.T) {
	w, o := contextSessions(t, "ctxno")
	for i, line := range []string{
		`SEARCH RETURN (UPDATE ALL) 1:3`,
		`UID SEARCH RETURN (UPDATE) UID 2:*`,
		`UID SEARCH RETURN (UPDATE) NOT UID $`,
		`SEARCH RETURN (UPDATE) OR SEEN RECENT`,
		`SEARCH RETURN (UPDATE) YOUNGER 60`,
		`UID SORT RETURN (UPDATE) (DATE) UTF-8 NOT 2`,
		`UID SEARCH RETURN (UPDATE PARTIAL 1:2) ALL`,
	} {
		tag := fmt.Sprintf("n%d", i)
		r := w.cmd(tag, line)
		if want := tag + ` OK [NOUPDATE "` + tag + `"]`; !strings.HasPrefix(last(r), want) {
			t.Errorf("%s: %q, want %s", line, r, want)
		}
	}
	if r := w.cmd("x", `SEARCH RETURN (UPDATE ALL) 1:3`); len(r) != 2 || r[0] != `* ESEARCH (TAG "x") ALL 1:3` {
		t.Errorf("NOUPDATE without its result: %q", r)
	}
	// Ten contexts are kept, the eleventh is refused.
	for i := range maxSearchContexts {
		tag := fmt.Sprintf("k%d", i)
		if r := w.cmd(tag, `UID SEARCH RETURN (UPDATE) FLAGGED`); last(r) != tag+" OK SEARCH completed" && !strings.HasPrefix(last(r), tag+" OK UID SEARCH") {
			t.Fatalf("context %d: %q", i, r)
		}
	}
	if r := w.cmd("k10", `UID SORT RETURN (UPDATE) (SIZE) UTF-8 FLAGGED`); !strings.HasPrefix(last(r), `k10 OK [NOUPDATE "k10"]`) {
		t.Errorf("eleventh context: %q", r)
	}
	o.must("f", `STORE 1 +FLAGS (\Flagged)`)
	r := updatesAfter(t, w, "n", "NOOP")
	if len(r) != maxSearchContexts+1 || strings.Contains(strings.Join(r, "\n"), "k10") {
		t.Errorf("updates of ten contexts: %q", r)
	}
}

// TestContextPartial: PARTIAL returns a range of the results (RFC 5267
// §4.4; from the end with RFC 9394's negative ranges), in mailbox order
// for SEARCH and sort order for SORT.
func TestContextPartial(t *testing.T) {
	rc := sortSession(t, "ctxpartial", true)
	script(t, rc, []scriptStep{
		{"SEARCH RETURN (PARTIAL 1:1) ALL", []string{`* ESEARCH (TAG "$tag") PARTIAL (1:1 1)`}, "OK"},
		{"SEARCH RETURN (PARTIAL 4:2) ALL", []string{`* ESEARCH (TAG "$tag") PARTIAL (2:4 2:4)`}, "OK"},
		{"SEARCH RETURN (PARTIAL 1:6) ALL", []string{`* ESEARCH (TAG "$tag") PARTIAL (1:6 1:5)`}, "OK"},
		{"SEARCH RETURN (PARTIAL 6:6) ALL", []string{`* ESEARCH (TAG "$tag") PARTIAL (6:6 NIL)`}, "OK"},
		{"SEARCH RETURN (PARTIAL 2:3) 1:2,4:5", []string{`* ESEARCH (TAG "$tag") PARTIAL (2:3 2,4)`}, "OK"},
		{"SEARCH RETURN (COUNT PARTIAL 1:2) ALL", []string{`* ESEARCH (TAG "$tag") COUNT 5 PARTIAL (1:2 1:2)`}, "OK"},
		{"UID SEARCH RETURN (PARTIAL -1:-2) ALL", []string{`* ESEARCH (TAG "$tag") UID PARTIAL (-1:-2 4:5)`}, "OK"},
		{"UID SEARCH RETURN (PARTIAL -5:-9) ALL", []string{`* ESEARCH (TAG "$tag") UID PARTIAL (-5:-9 1)`}, "OK"},
		{"UID SEARCH RETURN (PARTIAL -6:-9) ALL", []string{`* ESEARCH (TAG "$tag") UID PARTIAL (-6:-9 NIL)`}, "OK"},
		// SORT: the range of the sort order (arrival: 4 2 3 1 5).
		{"SORT RETURN (PARTIAL 1:2) (ARRIVAL) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") PARTIAL (1:2 4,2)`}, "OK"},
		{"UID SORT RETURN (PARTIAL 2:3 MIN) (ARRIVAL) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") UID MIN 4 PARTIAL (2:3 2:3)`}, "OK"},
		{"SORT RETURN (PARTIAL -1:-2) (ARRIVAL) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") PARTIAL (-1:-2 1,5)`}, "OK"},
		// CONTEXT is a hint (§4.2): alone, it is ALL.
		{"SEARCH RETURN (CONTEXT) 2:3", []string{`* ESEARCH (TAG "$tag") ALL 2:3`}, "OK"},
		{"SORT RETURN (CONTEXT) (ARRIVAL) UTF-8 ALL", []string{`* ESEARCH (TAG "$tag") ALL 4,2:3,1,5`}, "OK"},
		{"SEARCH RETURN (PARTIAL 1:*) ALL", nil, "BAD"},
		{"SEARCH RETURN (PARTIAL 1) ALL", nil, "BAD"},
	})
}

// TestContextCrossNode: a context on one node hears of changes made
// through another (RFC 5267 §4.3): a delivery through n1 is an ADDTO in
// an IDLE on n2, a flag change through n1 a REMOVEFROM.
func TestContextCrossNode(t *testing.T) {
	if testing.Short() {
		t.Skip("two-node cluster")
	}
	c := startCluster(t, 2)
	user := c.NewUser(t, "ctxcross", password)
	addrs := make([]string, 2)
	for i, n := range c.Nodes {
		_, _, addrs[i] = c.serve(t, n, nil)
	}
	for i := range c.Nodes {
		waitFor(t, func() bool { _, err := c.Nodes[i].Store.User(user); return err == nil })
	}
	c.Nodes[0].Deliver(t, user, msg("cross one", "x"))
	w := dialRawTLS(t, addrs[1], user)
	defer w.conn.Close()
	waitFor(t, func() bool {
		r := w.cmd("s", "SELECT INBOX")
		return strings.Contains(strings.Join(r, "\n"), "* 1 EXISTS")
	})
	playScript(t, w, `
		C: a UID SEARCH RETURN (UPDATE ALL) UNSEEN SUBJECT cross
		S: * ESEARCH (TAG "a") UID ALL 1
		S: a OK
		C: b UID SORT RETURN (UPDATE) (REVERSE SUBJECT) UTF-8 SUBJECT cross
		S: * ESEARCH (TAG "b") UID
		S: b OK
		C: i IDLE
		S: + idling`)
	c.Nodes[0].Deliver(t, user, msg("cross two", "x"))
	playScript(t, w, `
		S: * 2 EXISTS
		S: ...
		S: * ESEARCH (TAG "a") UID ADDTO (0 2)
		S: * ESEARCH (TAG "b") UID ADDTO (1 2)`)
	o := dialRawTLS(t, addrs[0], user)
	defer o.conn.Close()
	o.must("s", "SELECT INBOX")
	o.must("f", `STORE 1 +FLAGS (\Seen)`)
	playScript(t, w, `
		S: * ESEARCH (TAG "a") UID REMOVEFROM (0 1)
		S: * 1 FETCH
		C: DONE
		S: i OK`)
}
