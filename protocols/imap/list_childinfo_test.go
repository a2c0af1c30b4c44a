package imap

import (
	"slices"
	"strings"
	"testing"
)

// TestListRecursiveMatchChildInfo follows imaptest's listext script (RFC
// 5258 §3.5): LIST (SUBSCRIBED RECURSIVEMATCH) returns a parent that is
// not subscribed, with CHILDINFO ("SUBSCRIBED"), only for a subscribed
// descendant that no pattern matches; a descendant a pattern matches is
// listed itself.
func TestListRecursiveMatchChildInfo(t *testing.T) {
	c := sharedCluster(t)
	user := c.NewUser(t, "childinfo", password)
	_, _, implicit := c.serve(t, c.Nodes[0], nil)
	rc := dialRawTLS(t, implicit, user)
	defer rc.conn.Close()
	for _, cmd := range []string{
		"CREATE t/test2/", "CREATE t/test2/test1", "CREATE t/test7/test7", "CREATE t/test8/test8", "CREATE t/test8/test9",
		"SUBSCRIBE t/test2/test1", "SUBSCRIBE t/test7/test7", "SUBSCRIBE t/test8/test8", "SUBSCRIBE t/test8/test9",
	} {
		if r := last(rc.cmd("a", cmd)); !strings.HasPrefix(r, "a OK") {
			t.Fatalf("%s: %q", cmd, r)
		}
	}
	listed := func(lines []string, name string) (bool, bool) {
		// The name follows the delimiter, as an atom or quoted.
		i := slices.IndexFunc(lines, func(l string) bool {
			_, rest, ok := strings.Cut(l, `) "/" `)
			return strings.HasPrefix(l, "* LIST") && ok &&
				(rest == name || strings.HasPrefix(rest, name+" ") || rest == `"`+name+`"` || strings.HasPrefix(rest, `"`+name+`" `))
		})
		if i < 0 {
			return false, false
		}
		// RFC 5258 §4 writes the tag quoted; an atom is as good.
		u := strings.ToUpper(lines[i])
		return true, strings.Contains(u, `"CHILDINFO" ("SUBSCRIBED")`) || strings.Contains(u, ` CHILDINFO ("SUBSCRIBED")`)
	}
	for _, tc := range []struct {
		cmd, name      string
		listed, childI bool
	}{
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" (t/test2)`, "t/test2", true, true},
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" (t/test2 t/test2/test1)`, "t/test2", false, false},
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" (t/test2 t/test2/test1)`, "t/test2/test1", true, false},
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" t*test7`, "t/test7", false, false},
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" t*test8`, "t/test8", true, true},
		{`LIST (SUBSCRIBED RECURSIVEMATCH) "" t/test2% RETURN (CHILDREN)`, "t/test2", true, true},
	} {
		lines := rc.cmd("l", tc.cmd)
		if !strings.HasPrefix(last(lines), "l OK") {
			t.Fatalf("%s: %q", tc.cmd, lines)
		}
		if l, ci := listed(lines, tc.name); l != tc.listed || ci != tc.childI {
			t.Errorf("%s: %s listed %v CHILDINFO %v, want %v %v (%q)", tc.cmd, tc.name, l, ci, tc.listed, tc.childI, lines)
		}
	}
}
