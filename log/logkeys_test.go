package log

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The log keys of a node's logs are one vocabulary, documented in
// docs/DESIGN.md ("Log keys"), so that one message can be followed across
// nodes with grep. TestLogKeysFollowDesign reads every log/slog call of the
// node's code (cmd, cluster, mailbox, protocols, log; not tests, benches or
// the fault-injection harness) and fails when
//   - a key with a literal name is not in the table (a new spelling of a
//     known concept: "addr" for a user, "index" for raft_index, ...),
//   - `mailbox` holds an id (`mailbox_id` does),
//   - an apply-side line (mailbox/apply*.go, cluster/fsm.go) or a local
//     delivery line ("smtp delivered...") has no raft_index,
//   - a key in the table is no longer used anywhere.

// logDirs are the module's directories whose code runs in a node.
var logDirs = []string{"cmd", "cluster", "mailbox", "protocols", "log"}

// skipDirs hold code that does not run in a node.
var skipDirs = map[string]bool{"testdata": true, "faults": true, "bench": true}

// slogMethods maps a logging method to the index of its first key/value
// argument.
var slogMethods = map[string]int{
	"Debug": 1, "Info": 1, "Warn": 1, "Error": 1,
	"DebugContext": 2, "InfoContext": 2, "WarnContext": 2, "ErrorContext": 2,
	"Log": 3, "LogAttrs": 3, "With": 0, "WithGroup": -1,
}

// attrFuncs are slog's Attr constructors; their first argument is a key.
var attrFuncs = map[string]bool{
	"String": true, "Int": true, "Int64": true, "Uint64": true, "Float64": true,
	"Bool": true, "Time": true, "Duration": true, "Any": true, "Group": true,
}

// logCall is one logging call (or Attr list) found in the sources.
type logCall struct {
	line bool // a logging method writing a line (not With or an Attr)
	pos  token.Position
	msg  string // the message when it is a literal
	keys map[string]ast.Expr
}

func TestLogKeysFollowDesign(t *testing.T) {
	allowed := documentedLogKeys(t)
	calls := scanLogCalls(t, "..")
	if len(calls) < 100 {
		t.Fatalf("found only %d logging calls: the scan is broken", len(calls))
	}
	used := map[string]bool{}
	for _, c := range calls {
		for k, v := range c.keys {
			used[k] = true
			if !allowed[k] {
				t.Errorf("%s: log key %q is not in docs/DESIGN.md's log keys: use the documented spelling, or add it there", c.pos, k)
			}
			if k == "mailbox" && v != nil && looksLikeID(v) {
				t.Errorf("%s: log key \"mailbox\" holds an id (%s): mailbox is the name, mailbox_id the id", c.pos, exprNames(v))
			}
		}
		file := filepath.ToSlash(c.pos.Filename)
		applySide := strings.Contains(file, "/mailbox/apply") || strings.HasSuffix(file, "/cluster/fsm.go")
		delivery := strings.HasPrefix(c.msg, "smtp delivered") && !noRaftIndexYet[c.msg]
		if c.line && (applySide || delivery) && !hasKey(c, "raft_index") {
			t.Errorf("%s: %q has no raft_index: apply and delivery lines carry the entry's raft_index", c.pos, c.msg)
		}
	}
	for k := range allowed {
		if !used[k] {
			t.Errorf("docs/DESIGN.md documents log key %q, which no code uses any more", k)
		}
	}
}

// noRaftIndexYet are delivery lines written before the entry's index is
// known to the front end: remove each once it carries raft_index.
var noRaftIndexYet = map[string]bool{}

func hasKey(c logCall, k string) bool { _, ok := c.keys[k]; return ok }

// documentedLogKeys reads the key column of the "Log keys" table.
func documentedLogKeys(t *testing.T) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "DESIGN.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(data), "\n### Log keys\n")
	if !ok {
		t.Fatal(`docs/DESIGN.md has no "### Log keys" section`)
	}
	if i := strings.Index(section, "\n#"); i >= 0 {
		section = section[:i]
	}
	row := regexp.MustCompile("(?m)^\\| ((?:`[a-z0-9_]+`(?:, )?)+) \\|")
	keys := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		for _, k := range strings.Split(m[1], ", ") {
			keys[strings.Trim(k, "`")] = true
		}
	}
	for _, k := range []string{"node", "user", "mailbox", "mailbox_id", "uid", "raft_index", "remote", "err"} {
		if !keys[k] {
			t.Errorf("docs/DESIGN.md's log keys lack %q", k)
		}
	}
	return keys
}

// scanLogCalls parses the node's sources under root.
func scanLogCalls(t *testing.T, root string) []logCall {
	t.Helper()
	var calls []logCall
	fset := token.NewFileSet()
	for _, dir := range logDirs {
		err := filepath.WalkDir(filepath.Join(root, dir), func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if skipDirs[d.Name()] {
					return filepath.SkipDir
				}
				return nil
			}
			name := d.Name()
			if !strings.HasSuffix(name, ".go") || strings.HasSuffix(name, "_test.go") || strings.HasSuffix(name, ".pb.go") {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				return err
			}
			calls = append(calls, logCallsIn(fset, f)...)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	return calls
}

func logCallsIn(fset *token.FileSet, f *ast.File) []logCall {
	usesSlog := slices.ContainsFunc(f.Imports, func(s *ast.ImportSpec) bool { return s.Path.Value == `"log/slog"` })
	var calls []logCall
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if c, ok := slogCall(n); ok {
				c.pos = fset.Position(n.Pos())
				calls = append(calls, c)
			}
		case *ast.CompositeLit:
			// []any{"user", u, ...}: arguments gathered for a later call.
			if usesSlog && isAnySlice(n.Type) && len(n.Elts) > 0 && isStringLit(n.Elts[0]) {
				c := logCall{pos: fset.Position(n.Pos()), keys: map[string]ast.Expr{}}
				addArgs(&c, n.Elts)
				calls = append(calls, c)
			}
		}
		return true
	})
	return calls
}

// slogCall recognises a logging method call, a slog Attr constructor, or
// append(attrs, "key", value...).
func slogCall(call *ast.CallExpr) (logCall, bool) {
	c := logCall{keys: map[string]ast.Expr{}}
	switch fn := call.Fun.(type) {
	case *ast.SelectorExpr:
		if pkg, ok := fn.X.(*ast.Ident); ok && pkg.Name == "slog" {
			if attrFuncs[fn.Sel.Name] && len(call.Args) > 0 {
				if k, ok := stringLit(call.Args[0]); ok {
					var v ast.Expr
					if len(call.Args) > 1 {
						v = call.Args[1]
					}
					c.keys[k] = v
					if fn.Sel.Name == "Group" {
						addArgs(&c, call.Args[1:])
						c.keys[k] = nil
					}
					return c, true
				}
			}
			return c, false
		}
		if pkg, ok := fn.X.(*ast.Ident); ok && pkg.Name == "http" {
			return c, false // http.Error(w, text, code) is no log line
		}
		first, ok := slogMethods[fn.Sel.Name]
		if !ok || first < 0 || len(call.Args) < first {
			return c, false
		}
		if first > 0 {
			c.line = true
			c.msg, _ = stringLit(call.Args[first-1])
		}
		addArgs(&c, call.Args[first:])
		return c, c.line || len(c.keys) > 0
	case *ast.Ident:
		if fn.Name == "append" && len(call.Args) > 1 && isStringLit(call.Args[1]) {
			if id, ok := call.Args[0].(*ast.Ident); ok && strings.Contains(strings.ToLower(id.Name), "attr") {
				addArgs(&c, call.Args[1:])
				return c, true
			}
		}
	}
	return c, false
}

// addArgs reads slog's key-value arguments: a string is a key and the next
// argument its value; anything else is an Attr (checked where it is made).
func addArgs(c *logCall, args []ast.Expr) {
	for i := 0; i < len(args); i++ {
		k, ok := stringLit(args[i])
		if !ok {
			// An Attr made in place: slog.String("user", u).
			if call, isCall := args[i].(*ast.CallExpr); isCall {
				if attr, isAttr := slogCall(call); isAttr && !attr.line {
					for k, v := range attr.keys {
						c.keys[k] = v
					}
				}
			}
			continue
		}
		var v ast.Expr
		if i+1 < len(args) {
			v = args[i+1]
		}
		c.keys[k] = v
		i++
	}
}

func stringLit(e ast.Expr) (string, bool) {
	lit, ok := e.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(lit.Value)
	return s, err == nil
}

func isStringLit(e ast.Expr) bool { _, ok := stringLit(e); return ok }

func isAnySlice(e ast.Expr) bool {
	at, ok := e.(*ast.ArrayType)
	if !ok || at.Len != nil {
		return false
	}
	switch elt := at.Elt.(type) {
	case *ast.Ident:
		return elt.Name == "any"
	case *ast.InterfaceType:
		return len(elt.Methods.List) == 0
	}
	return false
}

// looksLikeID reports whether an expression names an id: md.mailboxID,
// mb.GetId(), m.id.
func looksLikeID(e ast.Expr) bool {
	for _, n := range strings.Fields(exprNames(e)) {
		if strings.HasSuffix(strings.ToLower(n), "id") {
			return true
		}
	}
	return false
}

// exprNames lists the identifiers in e.
func exprNames(e ast.Expr) string {
	var names []string
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			names = append(names, id.Name)
		}
		return true
	})
	return strings.Join(names, " ")
}

// TestLogKeysScanCatchesDrift runs the checks on code that drifts, so that
// the scan above cannot silently match nothing.
func TestLogKeysScanCatchesDrift(t *testing.T) {
	src := `package p
import "log/slog"
func f(l *slog.Logger, md maildrop, addr string) {
	l.Info("pop3 login", "mailbox", md.mailboxID, "addr", addr)
	l.With("index", 7).Warn("x", slog.String("mailbox", md.name))
	attrs := []any{"user", addr}
	attrs = append(attrs, "delayed", 1)
	l.Info("smtp delivered", attrs...)
}`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string][]string{}
	for _, c := range logCallsIn(fset, f) {
		for k, v := range c.keys {
			keys[k] = append(keys[k], exprNames(v))
		}
	}
	for _, k := range []string{"mailbox", "addr", "index", "user", "delayed"} {
		if keys[k] == nil {
			t.Errorf("key %q not found; found %v", k, keys)
		}
	}
	if got := keys["mailbox"]; len(got) < 2 {
		t.Fatalf("mailbox values %v", got)
	}
	ids := 0
	for _, c := range logCallsIn(fset, f) {
		if v, ok := c.keys["mailbox"]; ok && looksLikeID(v) {
			ids++
		}
	}
	if ids != 1 {
		t.Errorf("%d mailbox values taken for ids; want 1 (md.mailboxID)", ids)
	}
}
