package sieve

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"unicode/utf8"
)

// CompileError is a script error found at compile time, with the
// position of the token at fault.
type CompileError struct {
	Line, Column int
	Msg          string
}

func (e *CompileError) Error() string {
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// Limits bound what one script may make the interpreter do. Zero fields
// take the default's value.
type Limits struct {
	MaxSteps        int // command and test evaluations per Execute
	MaxRedirects    int // redirect actions per Execute (RFC 5228 §4.2)
	MaxIncludes     int // include commands in a script and all it includes (RFC 6609)
	MaxIncludeDepth int // nesting of includes
	MaxVariableLen  int // bytes in one variable's value (RFC 5229 §6)
	MaxBodyBytes    int // bytes of the body the body test reads (RFC 5173)
	// MaxActions bounds the copies one execution makes (distinct
	// fileinto mailboxes plus redirects) and the ids duplicate records,
	// as Pigeonhole's sieve_max_actions.
	MaxActions int
	// MaxHeaderGrowth bounds the bytes editheader may add to the header
	// block (RFC 5293 leaves it to the site).
	MaxHeaderGrowth int
}

// DefaultLimits returns the limits Surat uses when nothing else is set.
func DefaultLimits() Limits {
	return Limits{
		MaxSteps:        100000,
		MaxRedirects:    4,
		MaxIncludes:     16,
		MaxIncludeDepth: 4,
		MaxVariableLen:  4096,
		MaxBodyBytes:    1 << 20,
		MaxActions:      32,
		MaxHeaderGrowth: 64 << 10,
	}
}

// withDefaults replaces every limit not above zero by DefaultLimits'.
func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	for _, f := range []struct{ v, def *int }{
		{&l.MaxSteps, &d.MaxSteps}, {&l.MaxRedirects, &d.MaxRedirects}, {&l.MaxIncludes, &d.MaxIncludes},
		{&l.MaxIncludeDepth, &d.MaxIncludeDepth}, {&l.MaxVariableLen, &d.MaxVariableLen}, {&l.MaxBodyBytes, &d.MaxBodyBytes},
		{&l.MaxActions, &d.MaxActions}, {&l.MaxHeaderGrowth, &d.MaxHeaderGrowth},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	return l
}

// Options are the compile-time settings of a script.
type Options struct {
	Limits Limits
	// Include resolves `include` (RFC 6609) at compile time: global
	// tells ":global" from ":personal"; it returns the script's source,
	// or an error wrapping ErrIncludeNotFound for a missing one (an
	// error unless the include is :optional). Nil: include is refused at
	// compile time. A syntax check at upload, where the included script
	// may come later, can return an empty source for missing names.
	Include func(global bool, name string) ([]byte, error)
}

// ErrIncludeNotFound may be returned (wrapped) by Options.Include for a
// script that does not exist, so that `include :optional` skips it
// (RFC 6609 §3.2).
var ErrIncludeNotFound = errors.New("sieve: included script not found")

// Extensions returns the SIEVE capability list (RFC 5804 §1.7), sorted:
// every extension a script may require.
func Extensions() []string {
	var list []string
	for c := range capabilities {
		if announced(c) {
			list = append(list, c)
		}
	}
	sort.Strings(list)
	return list
}

// Script is a compiled script. It is immutable and safe for concurrent
// use by several Executes.
type Script struct {
	code     []*op
	requires map[string]bool
	limits   Limits
	usesBody bool
	// includes holds the scripts an include command runs, by key
	// ("personal/name" or "global/name").
	includes map[string]*Script
	globals  []string // names declared by `global` at the top level of this script
}

// Requires reports whether the script (or a script it includes)
// requires the capability.
func (s *Script) Requires(capability string) bool {
	if s.requires[capability] {
		return true
	}
	for _, inc := range s.includes {
		if inc != nil && inc.Requires(capability) {
			return true
		}
	}
	return false
}

// UsesBody reports whether running the script may read the message
// body (the body test, RFC 5173), so a caller can skip buffering it.
func (s *Script) UsesBody() bool {
	if s.usesBody {
		return true
	}
	for _, inc := range s.includes {
		if inc != nil && inc.UsesBody() {
			return true
		}
	}
	return false
}

// op is a compiled command or test.
type op struct {
	name      string
	line, col int
	tags      map[string]arg // present tags, with their parameter (kind argTag for flag tags)
	pos       []arg          // positional arguments
	tests     []*op
	block     []*op
	// if: the elsif/else branches that follow, as ops named "elsif"/"else".
	branches []*op

	// For tests and commands with match arguments.
	cmp      comparator
	mt       matchType
	relation string // relational's operator for :value and :count
	part     addressPart
	regexps  []*regexp.Regexp // precompiled :regex keys, when they hold no variables
	include  string           // include: key into Script.includes
}

func (o *op) has(tag string) bool { _, ok := o.tags[tag]; return ok }

// compiler holds the state of one Compile.
type compiler struct {
	opts     Options
	requires map[string]bool
	usesBody bool
	includes map[string]*Script
	count    *int // includes compiled so far, across the whole tree
	depth    int
}

// Check checks a script on its way to storage (ManageSieve's PUTSCRIPT
// and CHECKSCRIPT, `surat sieve put`) as deliveries will compile it, with
// the default limits. Its includes (RFC 6609) are taken as empty scripts:
// they are resolved at delivery, so a script may be stored before the
// ones it includes, and a missing one is then the run-time error RFC 6609
// §3.2 asks for.
func Check(src []byte) error {
	_, err := Compile(src, Options{Limits: DefaultLimits(),
		Include: func(bool, string) ([]byte, error) { return []byte{}, nil }})
	return err
}

// Compile parses and checks a script (RFC 5228). Errors are
// *CompileError with a line number; an include that fails to compile
// reports the included script's name with its line.
func Compile(src []byte, opts Options) (*Script, error) {
	opts.Limits = opts.Limits.withDefaults()
	n := 0
	return compileScript(src, opts, &n, 0)
}

func compileScript(src []byte, opts Options, count *int, depth int) (*Script, error) {
	// RFC 5228 §2.1: a script is UTF-8 (RFC 5804 §2.6: the upload is
	// checked for it); a leading byte order mark is tolerated.
	src = bytes.TrimPrefix(src, []byte("\xef\xbb\xbf"))
	if !utf8.Valid(src) {
		line, col := 1, 1
		for i := 0; i < len(src); {
			r, n := utf8.DecodeRune(src[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			if r == '\n' {
				line, col = line+1, 1
			} else {
				col += n // columns count bytes, as the lexer's do
			}
			i += n
		}
		return nil, errAt(line, col, "the script is not valid UTF-8")
	}
	nodes, err := parse(src)
	if err != nil {
		return nil, err
	}
	c := &compiler{opts: opts, requires: map[string]bool{}, includes: map[string]*Script{}, count: count, depth: depth}
	code, err := c.commands(nodes, true, nil)
	if err != nil {
		return nil, err
	}
	s := &Script{code: code, requires: c.requires, limits: opts.Limits, usesBody: c.usesBody, includes: c.includes}
	for _, o := range code {
		if o.name == "global" {
			s.globals = append(s.globals, strList(o.pos[0])...)
		}
	}
	return s, nil
}

func strList(a arg) []string { return a.strs }

func errAt(line, col int, format string, args ...any) error {
	return &CompileError{Line: line, Column: col, Msg: fmt.Sprintf(format, args...)}
}

// commands compiles a command list; top tells the script's top level,
// where require may appear (RFC 5228 §3.2: before any other command).
func (c *compiler) commands(nodes []*node, top bool, parent *node) ([]*op, error) {
	var out []*op
	requireAllowed := top
	for i, n := range nodes {
		sp, ok := specs[n.name]
		if !ok || sp.isTest {
			if ok {
				return nil, errAt(n.line, n.col, "%q is a test, not a command", n.name)
			}
			return nil, errAt(n.line, n.col, "unknown command %q", n.name)
		}
		if n.name == "require" {
			if !requireAllowed {
				return nil, errAt(n.line, n.col, "require must come before every other command")
			}
		} else {
			requireAllowed = false
		}
		if n.name == "elsif" || n.name == "else" {
			if i == 0 || (nodes[i-1].name != "if" && nodes[i-1].name != "elsif") {
				return nil, errAt(n.line, n.col, "%s without a preceding if", n.name)
			}
		}
		o, err := c.op(n, sp)
		if err != nil {
			return nil, err
		}
		switch n.name {
		case "require":
			for _, ext := range o.pos[0].strs {
				if !capabilities[ext] {
					return nil, errAt(o.pos[0].line, o.pos[0].col, "unsupported extension %q", ext)
				}
				c.requires[ext] = true
				if ext == "spamtestplus" {
					c.requires["spamtest"] = true
				}
			}
			continue
		case "elsif", "else":
			last := out[len(out)-1]
			last.branches = append(last.branches, o)
			continue
		}
		out = append(out, o)
	}
	return out, nil
}

// op checks one command or test against its spec.
func (c *compiler) op(n *node, sp *spec) (*op, error) {
	if sp.ext != "" && !c.requires[sp.ext] {
		if sp.ext == "spamtest" && c.requires["spamtestplus"] {
			// spamtestplus implies spamtest (RFC 5235 §3.2).
		} else {
			return nil, errAt(n.line, n.col, "%q needs require %q", n.name, sp.ext)
		}
	}
	o := &op{name: n.name, line: n.line, col: n.col, tags: map[string]arg{}}
	args := n.args
	seenPositional := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a.kind != argTag {
			seenPositional = true
			o.pos = append(o.pos, a)
			continue
		}
		if seenPositional {
			return nil, errAt(a.line, a.col, "tag \":%s\" after the positional arguments of %q", a.tag, n.name)
		}
		if _, dup := o.tags[a.tag]; dup {
			return nil, errAt(a.line, a.col, "tag \":%s\" given twice", a.tag)
		}
		ts, ok := sp.tags[a.tag]
		if !ok {
			var err error
			ts, ok, err = c.commonTag(o, sp, a)
			if err != nil {
				return nil, err
			}
			if !ok {
				return nil, errAt(a.line, a.col, "%q does not take \":%s\"", n.name, a.tag)
			}
		}
		if ts.ext != "" && !c.requires[ts.ext] {
			return nil, errAt(a.line, a.col, "\":%s\" needs require %q", a.tag, ts.ext)
		}
		if ts.param == pNone {
			o.tags[a.tag] = a
			continue
		}
		if i+1 >= len(args) {
			return nil, errAt(a.line, a.col, "\":%s\" needs %s after it", a.tag, ts.param)
		}
		i++
		v := args[i]
		if !fits(v.kind, ts.param) {
			return nil, errAt(v.line, v.col, "\":%s\" needs %s, not a %s", a.tag, ts.param, v.kind)
		}
		o.tags[a.tag] = v
	}
	for _, group := range sp.exclusive {
		var found []string
		for _, t := range group {
			if o.has(t) {
				found = append(found, ":"+t)
			}
		}
		if len(found) > 1 {
			return nil, errAt(n.line, n.col, "%q takes only one of %s", n.name, strings.Join(found, ", "))
		}
	}
	if err := c.positional(n, sp, o); err != nil {
		return nil, err
	}
	// Tests and blocks.
	switch {
	case sp.test:
		if len(n.tests) != 1 || n.testList {
			return nil, errAt(n.line, n.col, "%q needs one test", n.name)
		}
	case sp.tests:
		if !n.testList {
			return nil, errAt(n.line, n.col, "%q needs a test list in parentheses", n.name)
		}
	default:
		if len(n.tests) > 0 {
			return nil, errAt(n.tests[0].line, n.tests[0].col, "%q takes no test", n.name)
		}
	}
	for _, t := range n.tests {
		tsp, ok := specs[t.name]
		if !ok || !tsp.isTest {
			if ok {
				return nil, errAt(t.line, t.col, "%q is a command, not a test", t.name)
			}
			return nil, errAt(t.line, t.col, "unknown test %q", t.name)
		}
		to, err := c.op(t, tsp)
		if err != nil {
			return nil, err
		}
		o.tests = append(o.tests, to)
	}
	if sp.block != n.hasBlock {
		if sp.block {
			return nil, errAt(n.line, n.col, "%q needs a block", n.name)
		}
		return nil, errAt(n.line, n.col, "%q takes no block", n.name)
	}
	if sp.block {
		block, err := c.commands(n.block, false, n)
		if err != nil {
			return nil, err
		}
		o.block = block
	}
	if err := c.semantics(o); err != nil {
		return nil, err
	}
	return o, nil
}

func fits(k argKind, p param) bool {
	switch p {
	case pNumber:
		return k == argNumber
	case pString:
		return k == argString
	case pStringList:
		return k == argString || k == argStringList
	}
	return false
}

// commonTag handles the tag groups many tests share: comparator, match
// type, address part and index.
func (c *compiler) commonTag(o *op, sp *spec, a arg) (tagSpec, bool, error) {
	if sp.match {
		switch a.tag {
		case "comparator":
			return tagSpec{param: pString}, true, nil
		case "is", "contains", "matches", "regex", "value", "count":
			if o.mt != mtDefault {
				return tagSpec{}, false, errAt(a.line, a.col, "more than one match type")
			}
			ts := tagSpec{}
			switch a.tag {
			case "is":
				o.mt = mtIs
			case "contains":
				o.mt = mtContains
			case "matches":
				o.mt = mtMatches
			case "regex":
				o.mt, ts.ext = mtRegex, "regex"
			case "value":
				o.mt, ts = mtValue, tagSpec{pString, "relational"}
			case "count":
				o.mt, ts = mtCount, tagSpec{pString, "relational"}
			}
			return ts, true, nil
		}
	}
	if sp.address {
		switch a.tag {
		case "all", "localpart", "domain", "user", "detail":
			if o.part != partDefault {
				return tagSpec{}, false, errAt(a.line, a.col, "more than one address part")
			}
			ts := tagSpec{}
			switch a.tag {
			case "all":
				o.part = partAll
			case "localpart":
				o.part = partLocal
			case "domain":
				o.part = partDomain
			case "user":
				o.part, ts.ext = partUser, "subaddress"
			case "detail":
				o.part, ts.ext = partDetail, "subaddress"
			}
			return ts, true, nil
		}
	}
	if sp.index {
		// deleteheader has :index and :last of its own (RFC 5293 §5);
		// elsewhere they come with "index" (RFC 5260 §6).
		ext := "index"
		if o.name == "deleteheader" {
			ext = ""
		}
		switch a.tag {
		case "index":
			return tagSpec{pNumber, ext}, true, nil
		case "last":
			return tagSpec{pNone, ext}, true, nil
		}
	}
	return tagSpec{}, false, nil
}

// positional checks the count and kinds of positional arguments.
func (c *compiler) positional(n *node, sp *spec, o *op) error {
	want := len(sp.pos)
	min := want
	if sp.minPos > 0 {
		min = sp.minPos
	}
	if len(o.pos) < min || len(o.pos) > want {
		if min == want {
			return errAt(n.line, n.col, "%q needs %d positional argument(s), got %d", n.name, want, len(o.pos))
		}
		return errAt(n.line, n.col, "%q needs %d to %d positional arguments, got %d", n.name, min, want, len(o.pos))
	}
	kinds := sp.pos
	if len(o.pos) < want {
		if sp.optFirst {
			kinds = sp.pos[want-len(o.pos):]
		} else {
			kinds = sp.pos[:len(o.pos)]
		}
	}
	for i, a := range o.pos {
		if !fits(a.kind, kinds[i]) {
			return errAt(a.line, a.col, "argument %d of %q must be %s, not a %s", i+1, n.name, kinds[i], a.kind)
		}
	}
	if sp.optFirst && len(o.pos) < want {
		// Normalize: a missing optional leading argument is absent, so
		// the last positional is always at the same place from the end.
		o.pos = append([]arg{{kind: argStringList}}, o.pos...)
		o.pos[0].line = -1
	}
	return nil
}
