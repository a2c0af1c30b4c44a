package managesieve

import (
	"strings"
	"testing"
)

// listed is LISTSCRIPTS as name → active.
func listed(t *testing.T, c *client) map[string]bool {
	t.Helper()
	r := c.cmd("LISTSCRIPTS")
	if r.status != "OK" {
		t.Fatalf("LISTSCRIPTS: %v", r)
	}
	out := map[string]bool{}
	for _, l := range r.lines {
		out[l[0]] = len(l) > 1 && l[1] == "ACTIVE"
	}
	return out
}

// The commands of RFC 5804 §2.6-§2.11 in one session, as a client uses
// them: put, list, activate, get, rename (active stays active), delete.
func TestScriptLifecycle(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	script := "require \"fileinto\";\r\nif header :contains \"Subject\" \"[proj]\" {\r\n  fileinto \"Projects\";\r\n}\r\n"
	if r := c.cmd(`PUTSCRIPT "proj" ` + lit(script)); r.status != "OK" {
		t.Fatalf("PUTSCRIPT: %v", r)
	}
	// A synchronizing literal {n} needs no continuation in ManageSieve.
	if r := c.cmd("PUTSCRIPT \"second\" {5}\r\nkeep;"); r.status != "OK" {
		t.Fatalf("PUTSCRIPT with {n}: %v", r)
	}
	if got := listed(t, c); len(got) != 2 || got["proj"] || got["second"] {
		t.Fatalf("LISTSCRIPTS = %v", got)
	}
	if r := c.cmd(`SETACTIVE "proj"`); r.status != "OK" {
		t.Fatalf("SETACTIVE: %v", r)
	}
	if got := listed(t, c); !got["proj"] || got["second"] {
		t.Fatalf("LISTSCRIPTS after SETACTIVE = %v", got)
	}
	r := c.cmd(`GETSCRIPT "proj"`)
	if r.status != "OK" || len(r.lines) != 1 || r.lines[0][0] != script {
		t.Fatalf("GETSCRIPT: %v %q", r, r.lines)
	}
	if r := c.cmd(`DELETESCRIPT "proj"`); r.status != "NO" || r.code != "ACTIVE" {
		t.Fatalf("DELETESCRIPT of the active script: %v", r)
	}
	if r := c.cmd(`RENAMESCRIPT "proj" "second"`); r.status != "NO" || r.code != "ALREADYEXISTS" {
		t.Fatalf("RENAMESCRIPT onto a taken name: %v", r)
	}
	if r := c.cmd(`RENAMESCRIPT "proj" "projects"`); r.status != "OK" {
		t.Fatalf("RENAMESCRIPT: %v", r)
	}
	if got := listed(t, c); !got["projects"] || len(got) != 2 {
		t.Fatalf("LISTSCRIPTS after RENAMESCRIPT = %v", got)
	}
	if r := c.cmd(`RENAMESCRIPT "gone" "x"`); r.code != "NONEXISTENT" {
		t.Fatalf("RENAMESCRIPT of a missing script: %v", r)
	}
	if r := c.cmd(`SETACTIVE ""`); r.status != "OK" {
		t.Fatalf("SETACTIVE \"\": %v", r)
	}
	if got := listed(t, c); got["projects"] {
		t.Fatalf("still active after SETACTIVE \"\": %v", got)
	}
	if r := c.cmd(`DELETESCRIPT "projects"`); r.status != "OK" {
		t.Fatalf("DELETESCRIPT: %v", r)
	}
	for _, cmd := range []string{`GETSCRIPT "projects"`, `DELETESCRIPT "projects"`, `SETACTIVE "projects"`} {
		if r := c.cmd(cmd); r.status != "NO" || r.code != "NONEXISTENT" {
			t.Errorf("%s: %v", cmd, r)
		}
	}
	// Another user's scripts are not visible.
	other := login(t, ts.addr, "bob@example.test")
	if got := listed(t, other); len(got) != 0 {
		t.Errorf("bob lists %v", got)
	}
}

// RFC 5804 §2.6, §2.12: a script that fails the check is refused with NO
// and the checker's reason (its line number); nothing is stored.
func TestPutAndCheckScriptValidation(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	bad := "keep;\r\nsyntax error\r\n"
	r := c.cmd(`PUTSCRIPT "bad" ` + lit(bad))
	if r.status != "NO" || !strings.Contains(r.text, "line 2") {
		t.Fatalf("PUTSCRIPT of a bad script: %v", r)
	}
	if got := listed(t, c); len(got) != 0 {
		t.Fatalf("the refused script is listed: %v", got)
	}
	if r := c.cmd("CHECKSCRIPT " + lit(bad)); r.status != "NO" || !strings.Contains(r.text, "line 2") {
		t.Fatalf("CHECKSCRIPT of a bad script: %v", r)
	}
	if r := c.cmd("CHECKSCRIPT " + lit("keep;\r\n")); r.status != "OK" {
		t.Fatalf("CHECKSCRIPT of a good script: %v", r)
	}
	if r := c.cmd("CHECKSCRIPT " + lit("\xff\xfe")); r.status != "NO" {
		t.Fatalf("CHECKSCRIPT of invalid UTF-8: %v", r)
	}
	if got := listed(t, c); len(got) != 0 {
		t.Fatalf("CHECKSCRIPT stored something: %v", got)
	}
}

// A reason with a line break goes to the client as a literal (RFC 5804 §4:
// quoted strings hold no CR or LF).
func TestMultilineReasonIsLiteral(t *testing.T) {
	ts := startServer(t, func(c *Config) {
		c.Check = func([]byte) error { return errMultiline }
	})
	c := login(t, ts.addr, testUser)
	c.send("CHECKSCRIPT " + lit("keep;") + "\r\n")
	toks, err := c.tokens()
	if err != nil || len(toks) != 2 || toks[0] != "NO" || toks[1] != errMultiline.Error() {
		t.Fatalf("CHECKSCRIPT answer %q %v", toks, err)
	}
}

type multilineError struct{}

func (multilineError) Error() string { return "line 1: first\r\nline 2: second" }

var errMultiline = multilineError{}

// RFC 5804 §1.6: invalid script names are refused.
func TestScriptNames(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	// "e\u0301" is é decomposed (NFD): not Net-Unicode (RFC 5198 §2).
	for _, name := range []string{"", "a\x01b", "a\u2028b", strings.Repeat("x", 129), "a\u0085b", "caf" + "e\u0301"} {
		if r := c.cmd("PUTSCRIPT " + lit(name) + " " + lit("keep;")); r.status != "NO" {
			t.Errorf("PUTSCRIPT %q: %v", name, r)
		}
	}
	for _, name := range []string{"Ünïcode ✓", "with \"quotes\" and \\", strings.Repeat("x", 128)} {
		if r := c.cmd("PUTSCRIPT " + quote(name) + " " + lit("keep;")); r.status != "OK" {
			t.Errorf("PUTSCRIPT %q: %v", name, r)
		}
	}
	got := listed(t, c)
	if len(got) != 3 {
		t.Errorf("LISTSCRIPTS = %v", got)
	}
	if _, ok := got["with \"quotes\" and \\"]; !ok {
		t.Errorf("quoted name not listed: %v", got)
	}
}

// RFC 5804 §2.5 HAVESPACE and the limits on PUTSCRIPT: QUOTA/MAXSIZE,
// QUOTA/MAXSCRIPTS.
func TestLimits(t *testing.T) {
	ts := startServer(t, func(c *Config) { c.Limits = Limits{MaxScripts: 2, MaxScriptBytes: 100} })
	c := login(t, ts.addr, testUser)
	if r := c.cmd(`HAVESPACE "a" 100`); r.status != "OK" {
		t.Fatalf("HAVESPACE within limits: %v", r)
	}
	if r := c.cmd(`HAVESPACE "a" 101`); r.status != "NO" || r.code != "QUOTA/MAXSIZE" {
		t.Fatalf("HAVESPACE too large: %v", r)
	}
	if r := c.cmd(`HAVESPACE "a" "10"`); r.status != "NO" {
		t.Fatalf("HAVESPACE with a string size: %v", r)
	}
	if r := c.cmd(`CHECKSCRIPT ` + lit(strings.Repeat("#", 100))); r.status != "OK" {
		t.Fatalf("CHECKSCRIPT at the size limit: %v", r)
	}
	if r := c.cmd(`PUTSCRIPT "big" ` + lit(strings.Repeat("#", 101))); r.status != "NO" || r.code != "QUOTA/MAXSIZE" {
		t.Fatalf("PUTSCRIPT too large: %v", r)
	}
	for _, name := range []string{"a", "b"} {
		if r := c.cmd(`PUTSCRIPT "` + name + `" ` + lit("keep;")); r.status != "OK" {
			t.Fatalf("PUTSCRIPT %s: %v", name, r)
		}
	}
	if r := c.cmd(`HAVESPACE "c" 10`); r.status != "NO" || r.code != "QUOTA/MAXSCRIPTS" {
		t.Fatalf("HAVESPACE past the count: %v", r)
	}
	if r := c.cmd(`HAVESPACE "a" 10`); r.status != "OK" {
		t.Fatalf("HAVESPACE replacing: %v", r)
	}
	if r := c.cmd(`PUTSCRIPT "c" ` + lit("keep;")); r.status != "NO" || r.code != "QUOTA/MAXSCRIPTS" {
		t.Fatalf("PUTSCRIPT past the count: %v", r)
	}
	if r := c.cmd(`PUTSCRIPT "a" ` + lit("discard;")); r.status != "OK" {
		t.Fatalf("PUTSCRIPT replacing at the count: %v", r)
	}
	// A literal over the limit is read, dropped and refused; the session
	// goes on.
	if r := c.cmd(`PUTSCRIPT "a" ` + lit(strings.Repeat("#", 20000))); r.status != "NO" || r.code != "QUOTA/MAXSIZE" {
		t.Fatalf("PUTSCRIPT with a literal over the limit: %v", r)
	}
	if r := c.cmd("NOOP"); r.status != "OK" {
		t.Fatalf("NOOP after the dropped literal: %v", r)
	}
}

// Store errors carry their response codes; an unknown error is TRYLATER,
// never a permanent refusal.
func TestStoreErrors(t *testing.T) {
	ts := startServer(t, nil)
	c := login(t, ts.addr, testUser)
	for _, tc := range []struct {
		err  error
		code string
	}{
		{errBoom, "TRYLATER"}, {ErrTryLater, "TRYLATER"}, {ErrQuota, "QUOTA"},
		{ErrQuotaMaxSize, "QUOTA/MAXSIZE"}, {ErrQuotaMaxScripts, "QUOTA/MAXSCRIPTS"},
	} {
		ts.scripts.setFail(tc.err)
		if r := c.cmd(`PUTSCRIPT "x" ` + lit("keep;")); r.status != "NO" || r.code != tc.code {
			t.Errorf("%v: PUTSCRIPT %v, want NO (%s)", tc.err, r, tc.code)
		}
	}
	ts.scripts.setFail(errBoom)
	for _, cmd := range []string{"LISTSCRIPTS", `GETSCRIPT "x"`, `SETACTIVE ""`, `DELETESCRIPT "x"`, `RENAMESCRIPT "x" "y"`} {
		if r := c.cmd(cmd); r.status != "NO" || r.code != "TRYLATER" {
			t.Errorf("%s: %v", cmd, r)
		}
	}
	ts.scripts.setFail(nil)
	if r := c.cmd("LISTSCRIPTS"); r.status != "OK" {
		t.Errorf("LISTSCRIPTS after recovery: %v", r)
	}
}
