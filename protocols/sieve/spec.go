package sieve

// param is what a tag takes after it, or what a positional argument is.
type param int

const (
	pNone       param = iota // a flag tag
	pNumber                  // a number
	pString                  // one string
	pStringList              // a string or a string list
)

func (p param) String() string {
	switch p {
	case pNumber:
		return "a number"
	case pString:
		return "a string"
	case pStringList:
		return "a string list"
	}
	return "nothing"
}

// tagSpec describes a tagged argument a command or test accepts.
type tagSpec struct {
	param param
	ext   string // capability the tag needs, "" for none
}

// spec describes a command or a test: the arguments it takes and the
// capability that must be required for it (RFC 5228 §3.2).
type spec struct {
	ext      string // the capability that makes it available; "" for core
	isTest   bool
	tags     map[string]tagSpec
	match    bool // :comparator and the match types (RFC 5228 §2.7)
	address  bool // the address parts (RFC 5228 §2.7.4)
	index    bool // :index n [:last] (RFC 5260 §6)
	pos      []param
	minPos   int // leading positional arguments are optional when fewer are given: see optFirst
	optFirst bool
	// exclusive lists groups of tags of which at most one may appear.
	exclusive [][]string
	// test: takes one test; tests: takes a test list; block: takes a block.
	test, tests, block bool
}

// specs holds every command and test Surat knows, keyed by name. It is
// read-only after initialization.
var specs = map[string]*spec{
	// RFC 5228 §3: control commands.
	"require": {pos: []param{pStringList}},
	"if":      {test: true, block: true},
	"elsif":   {test: true, block: true},
	"else":    {block: true},
	"stop":    {},

	// RFC 5228 §4: actions, with :copy (RFC 3894), :create (RFC 5490
	// §3.2) and :flags (RFC 5232 §5).
	"keep":    {tags: map[string]tagSpec{"flags": {pStringList, "imap4flags"}}},
	"discard": {},
	"redirect": {pos: []param{pString}, tags: map[string]tagSpec{
		"copy": {pNone, "copy"},
	}},
	"fileinto": {ext: "fileinto", pos: []param{pString}, tags: map[string]tagSpec{
		"copy":   {pNone, "copy"},
		"create": {pNone, "mailbox"},
		"flags":  {pStringList, "imap4flags"},
	}},

	// RFC 5429.
	"reject":  {ext: "reject", pos: []param{pString}},
	"ereject": {ext: "ereject", pos: []param{pString}},

	// RFC 5232 §3: flag actions; the variable name is optional.
	"setflag":    {ext: "imap4flags", pos: []param{pString, pStringList}, minPos: 1, optFirst: true},
	"addflag":    {ext: "imap4flags", pos: []param{pString, pStringList}, minPos: 1, optFirst: true},
	"removeflag": {ext: "imap4flags", pos: []param{pString, pStringList}, minPos: 1, optFirst: true},

	// RFC 5229 §4.
	"set": {ext: "variables", pos: []param{pString, pString}, tags: map[string]tagSpec{
		"lower": {}, "upper": {}, "lowerfirst": {}, "upperfirst": {},
		"quotewildcard": {}, "length": {},
		"quoteregex": {pNone, "regex"},
	}, exclusive: [][]string{{"lower", "upper"}, {"lowerfirst", "upperfirst"}}},

	// RFC 5230 and RFC 6131.
	"vacation": {ext: "vacation", pos: []param{pString}, tags: map[string]tagSpec{
		"days":      {pNumber, ""},
		"seconds":   {pNumber, "vacation-seconds"},
		"subject":   {pString, ""},
		"from":      {pString, ""},
		"addresses": {pStringList, ""},
		"mime":      {pNone, ""},
		"handle":    {pString, ""},
	}, exclusive: [][]string{{"days", "seconds"}}},

	// RFC 5293.
	"addheader": {ext: "editheader", pos: []param{pString, pString}, tags: map[string]tagSpec{
		"last": {},
	}},
	"deleteheader": {ext: "editheader", match: true, index: true, pos: []param{pString, pStringList}, minPos: 1},

	// RFC 6609.
	"include": {ext: "include", pos: []param{pString}, tags: map[string]tagSpec{
		"personal": {}, "global": {}, "once": {}, "optional": {},
	}, exclusive: [][]string{{"personal", "global"}}},
	"return": {ext: "include"},
	"global": {ext: "include", pos: []param{pStringList}},

	// RFC 5228 §5: tests.
	"address":  {isTest: true, match: true, address: true, index: true, pos: []param{pStringList, pStringList}},
	"header":   {isTest: true, match: true, index: true, pos: []param{pStringList, pStringList}},
	"envelope": {isTest: true, ext: "envelope", match: true, address: true, pos: []param{pStringList, pStringList}},
	"exists":   {isTest: true, pos: []param{pStringList}},
	"size": {isTest: true, pos: []param{pNumber}, tags: map[string]tagSpec{
		"over": {}, "under": {},
	}, exclusive: [][]string{{"over", "under"}}},
	"allof": {isTest: true, tests: true},
	"anyof": {isTest: true, tests: true},
	"not":   {isTest: true, test: true},
	"true":  {isTest: true},
	"false": {isTest: true},

	// RFC 5173.
	"body": {isTest: true, ext: "body", match: true, pos: []param{pStringList}, tags: map[string]tagSpec{
		"raw": {}, "content": {pStringList, ""}, "text": {},
	}, exclusive: [][]string{{"raw", "content", "text"}}},

	// RFC 5229 §5.
	"string": {isTest: true, ext: "variables", match: true, pos: []param{pStringList, pStringList}},

	// RFC 5232 §4.
	"hasflag": {isTest: true, ext: "imap4flags", match: true, pos: []param{pStringList, pStringList}, minPos: 1, optFirst: true},

	// RFC 5260 §4 and §5.
	"date": {isTest: true, ext: "date", match: true, index: true, pos: []param{pString, pString, pStringList}, tags: map[string]tagSpec{
		"zone": {pString, ""}, "originalzone": {},
	}, exclusive: [][]string{{"zone", "originalzone"}}},
	"currentdate": {isTest: true, ext: "date", match: true, pos: []param{pString, pStringList}, tags: map[string]tagSpec{
		"zone": {pString, ""},
	}},

	// RFC 5490 §3.1.
	"mailboxexists": {isTest: true, ext: "mailbox", pos: []param{pStringList}},

	// RFC 7352.
	"duplicate": {isTest: true, ext: "duplicate", tags: map[string]tagSpec{
		"handle": {pString, ""}, "header": {pString, ""}, "uniqueid": {pString, ""},
		"seconds": {pNumber, ""}, "last": {},
	}, exclusive: [][]string{{"header", "uniqueid"}}},

	// RFC 5235.
	"spamtest": {isTest: true, ext: "spamtest", match: true, pos: []param{pString}, tags: map[string]tagSpec{
		"percent": {pNone, "spamtestplus"},
	}},
	"virustest": {isTest: true, ext: "virustest", match: true, pos: []param{pString}},

	// RFC 5183.
	"environment": {isTest: true, ext: "environment", match: true, pos: []param{pString, pStringList}},
}

// capabilities lists every capability the interpreter implements, the
// SIEVE list of RFC 5804 §1.7. "spamtestplus" implies "spamtest"
// (RFC 5235 §3.2).
var capabilities = map[string]bool{
	"body":                       true,
	"comparator-i;ascii-numeric": true,
	"comparator-i;octet":         true,
	"comparator-i;ascii-casemap": true,
	"copy":                       true,
	"date":                       true,
	"duplicate":                  true,
	"editheader":                 true,
	"encoded-character":          true,
	"envelope":                   true,
	"environment":                true,
	"ereject":                    true,
	"fileinto":                   true,
	"imap4flags":                 true,
	"include":                    true,
	"index":                      true,
	"mailbox":                    true,
	"regex":                      true,
	"reject":                     true,
	"relational":                 true,
	"spamtest":                   true,
	"spamtestplus":               true,
	"subaddress":                 true,
	"vacation":                   true,
	"vacation-seconds":           true,
	"variables":                  true,
	"virustest":                  true,
}

// announced leaves out the two comparators every implementation has
// (RFC 5228 §2.7.3): clients neither need nor expect them in the list.
func announced(c string) bool {
	return c != "comparator-i;octet" && c != "comparator-i;ascii-casemap"
}
