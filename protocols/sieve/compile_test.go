package sieve

import (
	"errors"
	"slices"
	"strings"
	"testing"
)

// TestCompileErrors: every compile error names the line (and column) of
// the token at fault, as ManageSieve's PUTSCRIPT reports it.
func TestCompileErrors(t *testing.T) {
	for _, c := range []struct {
		src      string
		line     int
		contains string
	}{
		{"keep", 1, `expected ";"`},
		{"keep;\nfrobnicate;", 2, `unknown command "frobnicate"`},
		{"require \"fileinto\";\nkeep;\nrequire \"envelope\";", 3, "require must come before"},
		{"fileinto \"x\";", 1, `needs require "fileinto"`},
		{"require \"nosuch\";", 1, `unsupported extension "nosuch"`},
		{"if true {\n  keep;\n", 3, `expected "}"`},
		{"else { keep; }", 1, "without a preceding if"},
		{"if true { keep; }\nkeep;\nelsif false { keep; }", 3, "without a preceding if"},
		{"if header :is \"a\" { keep; }", 1, "needs 2 positional"},
		{"if header :is :contains \"a\" \"b\" { keep; }", 1, "more than one match type"},
		{"if header :comparator \"i;nope\" \"a\" \"b\" { keep; }", 1, "unknown comparator"},
		{"if header :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }", 1, "comparator-i;ascii-numeric"},
		{"require \"comparator-i;ascii-numeric\";\nif header :contains :comparator \"i;ascii-numeric\" \"a\" \"b\" { keep; }", 2, "cannot be used"},
		{"if size 10 { keep; }", 1, `":over" or ":under"`},
		{"if size :over :under 10 { keep; }", 1, "only one of"},
		{"if size :over \"10\" { keep; }", 1, "must be a number"},
		{"if true;", 1, `needs a block`},
		{"keep { }", 1, "takes no block"},
		{"if allof true { keep; }", 1, "test list"},
		{"if not (true, false) { keep; }", 1, "needs one test"},
		{"if keep { keep; }", 1, "is a command"},
		{"if frob { keep; }", 1, "unknown test"},
		{"if true { exists \"x\"; }", 1, "is a test"},
		{"redirect :copy \"a@b\";", 1, `needs require "copy"`},
		{"redirect \"a@b\" :copy;", 1, "after the positional"},
		{"redirect [\"a@b\", \"c@d\"];", 1, "must be a string"},
		{"if header :is \"bad name\" \"x\" { keep; }", 1, "invalid header field name"},
		{"if address :all :domain \"to\" \"x\" { keep; }", 1, "more than one address part"},
		{"require \"envelope\";\nif envelope \"sender\" \"x\" { keep; }", 2, "unknown envelope part"},
		{"stop stop;", 1, "takes no test"},
		{"if address :is \"subject\" \"a@b\" { keep; }", 1, "does not hold addresses"},
		{"keep;\nfileinto \"\xff\";", 2, "not valid UTF-8"},
		{"if header :comparator \"i;octet\" :comparator \"i;octet\" \"a\" \"b\" { keep; }", 1, "given twice"},
	} {
		ce := compileErr(t, c.src)
		if ce.Line != c.line || !strings.Contains(ce.Msg, c.contains) {
			t.Errorf("%q: got %v, want line %d containing %q", c.src, ce, c.line, c.contains)
		}
		if ce.Column < 1 {
			t.Errorf("%q: column %d", c.src, ce.Column)
		}
	}
}

// TestCompileAccepts: scripts from RFC 5228's examples compile.
func TestCompileAccepts(t *testing.T) {
	for _, src := range []string{
		"",
		"# nothing but a comment\n",
		"keep;",
		`require ["fileinto"];
if header :contains "from" "coyote" {
   discard;
} elsif header :contains ["subject"] ["$$$"] {
   discard;
} else {
   fileinto "INBOX";
}`,
		`if anyof (not exists ["From", "Date"],
           header :contains "from" "fool@example.com") {
   discard;
}`,
		`if size :over 100k { discard; }`,
		`if address :all :comparator "i;octet" :is "from" "a@b" { stop; }`,
		"if true { } elsif false { } else { }",
		"require \"fileinto\";\nfileinto text:\nINBOX\n.\n;",
		"\xef\xbb\xbfkeep;",
	} {
		if _, err := Compile([]byte(src), Options{}); err != nil {
			t.Errorf("compile %q: %v", src, err)
		}
	}
}

// TestExtensions: the announced list is sorted, has no implicit
// comparators, and every entry can be required.
func TestExtensions(t *testing.T) {
	exts := Extensions()
	if !slices.IsSorted(exts) {
		t.Fatalf("not sorted: %v", exts)
	}
	for _, e := range exts {
		if e == "comparator-i;octet" || e == "comparator-i;ascii-casemap" {
			t.Errorf("implicit comparator %q announced", e)
		}
		if _, err := Compile([]byte(`require "`+e+`";`), Options{}); err != nil {
			t.Errorf("require %q: %v", e, err)
		}
	}
	for _, want := range []string{"fileinto", "vacation", "imap4flags", "variables", "body", "reject"} {
		if !slices.Contains(exts, want) {
			t.Errorf("%q missing from %v", want, exts)
		}
	}
}

// TestNestingBounded: a deeply nested script is refused, not a stack
// overflow.
func TestNestingBounded(t *testing.T) {
	src := strings.Repeat("if true {", 1000) + strings.Repeat("}", 1000)
	compileErr(t, src)
	src = "if " + strings.Repeat("not ", 1000) + "true { }"
	compileErr(t, src)
}

// Check takes a script before the ones it includes are stored, and
// still refuses a broken one with its line.
func TestCheckForStorage(t *testing.T) {
	if err := Check([]byte("require [\"include\"];\r\ninclude :personal \"later\";\r\n")); err != nil {
		t.Fatalf("a script including one not stored yet: %v", err)
	}
	err := Check([]byte("require [\"fileinto\"];\r\nfrobnicate;\r\nkeep;\r\n"))
	var ce *CompileError
	if !errors.As(err, &ce) || ce.Line != 2 {
		t.Fatalf("broken script: %v, want a CompileError on line 2", err)
	}
}
