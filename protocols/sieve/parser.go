package sieve

import "fmt"

// argKind is the syntactic kind of an argument (RFC 5228 §2.6).
type argKind int

const (
	argTag argKind = iota
	argNumber
	argString     // a single string
	argStringList // a bracketed list (possibly of one string)
)

func (k argKind) String() string {
	switch k {
	case argTag:
		return "tag"
	case argNumber:
		return "number"
	case argString:
		return "string"
	}
	return "string list"
}

// arg is one argument as written.
type arg struct {
	kind      argKind
	tag       string // argTag: the name without ':'
	num       int64
	strs      []string // argString: one element
	line, col int
}

// node is a command or a test as parsed (RFC 5228 §8.2), before the
// checks of compile.go give it meaning.
type node struct {
	name      string
	line, col int
	args      []arg
	tests     []*node // a test, or a test-list
	testList  bool    // the tests were written as a parenthesised list
	block     []*node // commands of the block
	hasBlock  bool
}

// Parse limits that keep a hostile script from exhausting the stack.
const maxNesting = 64

type parser struct {
	lx    *lexer
	tok   token
	depth int
}

// parse turns a script into its command list (RFC 5228 §8.2).
func parse(src []byte) ([]*node, error) {
	p := &parser{lx: newLexer(src)}
	if err := p.advance(); err != nil {
		return nil, err
	}
	cmds, err := p.commands()
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tokEOF {
		return nil, p.errorf("unexpected %s", p.tok.describe())
	}
	return cmds, nil
}

func (p *parser) advance() error {
	t, err := p.lx.next()
	if err != nil {
		return err
	}
	p.tok = t
	return nil
}

func (p *parser) errorf(format string, args ...any) error {
	return &CompileError{Line: p.tok.line, Column: p.tok.col, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tokPunct && p.tok.text == s }

// commands = *command, up to "}" or the end.
func (p *parser) commands() ([]*node, error) {
	var cmds []*node
	for p.tok.kind == tokIdentifier {
		c, err := p.command()
		if err != nil {
			return nil, err
		}
		cmds = append(cmds, c)
	}
	if p.tok.kind != tokEOF && !p.isPunct("}") {
		return nil, p.errorf("expected a command, found %s", p.tok.describe())
	}
	return cmds, nil
}

// command = identifier arguments (";" / block)
func (p *parser) command() (*node, error) {
	n := &node{name: p.tok.text, line: p.tok.line, col: p.tok.col}
	if err := p.advance(); err != nil {
		return nil, err
	}
	if err := p.arguments(n); err != nil {
		return nil, err
	}
	switch {
	case p.isPunct(";"):
		return n, p.advance()
	case p.isPunct("{"):
		p.depth++
		if p.depth > maxNesting {
			return nil, p.errorf("blocks nested more than %d deep", maxNesting)
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		block, err := p.commands()
		if err != nil {
			return nil, err
		}
		if !p.isPunct("}") {
			return nil, p.errorf("expected \"}\", found %s", p.tok.describe())
		}
		p.depth--
		n.block, n.hasBlock = block, true
		return n, p.advance()
	}
	return nil, p.errorf("expected \";\" or \"{\" after command %q, found %s", n.name, p.tok.describe())
}

// arguments = *argument [ test / test-list ]
func (p *parser) arguments(n *node) error {
	for {
		a := arg{line: p.tok.line, col: p.tok.col}
		switch {
		case p.tok.kind == tokTag:
			a.kind, a.tag = argTag, p.tok.text
		case p.tok.kind == tokNumber:
			a.kind, a.num = argNumber, p.tok.num
		case p.tok.kind == tokString:
			a.kind, a.strs = argString, []string{p.tok.text}
		case p.isPunct("["):
			list, err := p.stringList()
			if err != nil {
				return err
			}
			a.kind, a.strs = argStringList, list
			n.args = append(n.args, a)
			continue
		default:
			return p.testsOf(n)
		}
		n.args = append(n.args, a)
		if err := p.advance(); err != nil {
			return err
		}
	}
}

// stringList = "[" string *("," string) "]"; the current token is "[".
func (p *parser) stringList() ([]string, error) {
	var list []string
	for {
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.tok.kind != tokString {
			return nil, p.errorf("expected a string in the list, found %s", p.tok.describe())
		}
		list = append(list, p.tok.text)
		if err := p.advance(); err != nil {
			return nil, err
		}
		if p.isPunct("]") {
			return list, p.advance()
		}
		if !p.isPunct(",") {
			return nil, p.errorf("expected \",\" or \"]\" in the string list, found %s", p.tok.describe())
		}
	}
}

// testsOf reads the optional test or test-list after the arguments.
func (p *parser) testsOf(n *node) error {
	switch {
	case p.tok.kind == tokIdentifier:
		t, err := p.test()
		if err != nil {
			return err
		}
		n.tests = []*node{t}
	case p.isPunct("("):
		n.testList = true
		for {
			if err := p.advance(); err != nil {
				return err
			}
			if p.tok.kind != tokIdentifier {
				return p.errorf("expected a test, found %s", p.tok.describe())
			}
			t, err := p.test()
			if err != nil {
				return err
			}
			n.tests = append(n.tests, t)
			if p.isPunct(")") {
				return p.advance()
			}
			if !p.isPunct(",") {
				return p.errorf("expected \",\" or \")\" in the test list, found %s", p.tok.describe())
			}
		}
	}
	return nil
}

// test = identifier arguments
func (p *parser) test() (*node, error) {
	p.depth++
	if p.depth > maxNesting {
		return nil, p.errorf("tests nested more than %d deep", maxNesting)
	}
	defer func() { p.depth-- }()
	n := &node{name: p.tok.text, line: p.tok.line, col: p.tok.col}
	if err := p.advance(); err != nil {
		return nil, err
	}
	return n, p.arguments(n)
}
