package sieve

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"
)

// Duplicate tracking bounds (RFC 7352 §3.1 leaves them to the site).
const (
	minDuplicateExpiry = time.Second
	maxDuplicateExpiry = 7 * 24 * time.Hour
)

func secondsDuration(n int64) time.Duration {
	if n > int64(maxDuplicateExpiry/time.Second) {
		return maxDuplicateExpiry
	}
	return time.Duration(n) * time.Second
}

// constant reports whether a string has the same value at run time:
// always without "variables", else when it holds no "${".
func (c *compiler) constant(s string) bool {
	return !c.requires["variables"] || !strings.Contains(s, "${")
}

// keyArg returns the key-list argument of a test, the one the match
// type compares against.
func keyArg(o *op) (arg, bool) {
	switch o.name {
	case "spamtest", "virustest":
		return o.pos[0], true
	case "deleteheader":
		if len(o.pos) > 1 {
			return o.pos[1], true
		}
		return arg{}, false
	}
	if len(o.pos) == 0 {
		return arg{}, false
	}
	return o.pos[len(o.pos)-1], true
}

// semantics checks what the grammar cannot: names, values, and the
// combinations the RFCs forbid. It decodes encoded characters first.
func (c *compiler) semantics(o *op) error {
	if c.requires["encoded-character"] {
		if err := c.decodeEncoded(o); err != nil {
			return err
		}
	}
	sp := specs[o.name]
	if sp.match {
		if o.mt == mtDefault {
			o.mt = mtIs
		}
		if o.name == "spamtest" || o.name == "virustest" {
			o.cmp = cmpNumeric // RFC 5235 §3.1: the scores compare as numbers
		}
		if a, ok := o.tags["comparator"]; ok {
			name := a.strs[0]
			cmp, known := comparatorNamed(name)
			if !known {
				return errAt(a.line, a.col, "unknown comparator %q", name)
			}
			// RFC 5228 §2.7.3: comparators other than i;octet and
			// i;ascii-casemap must be required.
			if cmp == cmpNumeric && !c.requires["comparator-i;ascii-numeric"] && o.name != "spamtest" && o.name != "virustest" {
				return errAt(a.line, a.col, "comparator %q needs require \"comparator-i;ascii-numeric\"", name)
			}
			o.cmp = cmp
		}
		if o.cmp == cmpNumeric && (o.mt == mtContains || o.mt == mtMatches || o.mt == mtRegex) {
			// RFC 4790 §9.1: i;ascii-numeric has no substring operation.
			return errAt(o.line, o.col, "comparator \"i;ascii-numeric\" cannot be used with this match type")
		}
		if o.mt == mtValue || o.mt == mtCount {
			tag := "value"
			if o.mt == mtCount {
				tag = "count"
			}
			a := o.tags[tag]
			o.relation = strings.ToLower(a.strs[0])
			switch o.relation {
			case "gt", "ge", "lt", "le", "eq", "ne":
			default:
				return errAt(a.line, a.col, "unknown relational operator %q", a.strs[0])
			}
		}
		if o.mt == mtRegex {
			if keys, ok := keyArg(o); ok {
				o.regexps = make([]*regexp.Regexp, len(keys.strs))
				for i, k := range keys.strs {
					if !c.constant(k) {
						continue
					}
					re, err := compileRegex(k, o.cmp)
					if err != nil {
						return errAt(keys.line, keys.col, "%v", err)
					}
					o.regexps[i] = re
				}
			}
		}
	}
	if sp.index && o.has("last") && !o.has("index") {
		return errAt(o.line, o.col, "\":last\" needs \":index\" (RFC 5260 §6)")
	}
	if a, ok := o.tags["index"]; ok && a.num < 1 {
		return errAt(a.line, a.col, "\":index\" counts from 1")
	}
	switch o.name {
	case "size":
		if !o.has("over") && !o.has("under") {
			return errAt(o.line, o.col, "size needs \":over\" or \":under\"")
		}
	case "envelope":
		for _, p := range o.pos[0].strs {
			if !c.constant(p) {
				continue
			}
			switch strings.ToLower(p) {
			case "from", "to":
			case "auth":
				// Accepted as Pigeonhole does (envelope-auth): the
				// authenticated submitter.
			default:
				return errAt(o.pos[0].line, o.pos[0].col, "unknown envelope part %q", p)
			}
		}
	case "header", "address", "exists":
		for _, name := range o.pos[0].strs {
			if !c.constant(name) {
				continue
			}
			if !validFieldName(name) {
				return errAt(o.pos[0].line, o.pos[0].col, "invalid header field name %q", name)
			}
			if o.name == "address" && notAddressField(name) {
				// RFC 5228 §5.1: the address test MUST be restricted to
				// fields that hold addresses.
				return errAt(o.pos[0].line, o.pos[0].col, "header field %q does not hold addresses", name)
			}
		}
	case "addheader", "deleteheader":
		name := o.pos[0].strs[0]
		if c.constant(name) && !validFieldName(name) {
			return errAt(o.pos[0].line, o.pos[0].col, "invalid header field name %q", name)
		}
		if o.name == "deleteheader" && o.has("last") && !o.has("index") {
			return errAt(o.line, o.col, "\":last\" needs \":index\"")
		}
	case "set":
		name := o.pos[0].strs[0]
		if c.constant(name) && (!validReference(name) || isDigit(name[0])) {
			return errAt(o.pos[0].line, o.pos[0].col, "invalid variable name %q", name)
		}
		// RFC 5229 §3: a namespace exists only with the extension that
		// defines it; "global." is RFC 6609 §3.5's.
		if ns, _, ok := strings.Cut(strings.ToLower(name), "."); ok && c.constant(name) &&
			(ns != "global" || !c.requires["include"]) {
			return errAt(o.pos[0].line, o.pos[0].col, "cannot set %q: no such writable namespace", name)
		}
	case "global":
		// RFC 6609 §3.3: global is a variables feature too.
		if !c.requires["variables"] {
			return errAt(o.line, o.col, "\"global\" needs require \"variables\"")
		}
		for _, name := range o.pos[0].strs {
			if !validIdentifier(name) {
				return errAt(o.pos[0].line, o.pos[0].col, "invalid global variable name %q", name)
			}
		}
	case "date", "currentdate":
		part := o.pos[len(o.pos)-2]
		if c.constant(part.strs[0]) && !validDatePart(strings.ToLower(part.strs[0])) {
			return errAt(part.line, part.col, "unknown date part %q", part.strs[0])
		}
		if z, ok := o.tags["zone"]; ok && c.constant(z.strs[0]) {
			if _, ok := parseZone(z.strs[0]); !ok {
				return errAt(z.line, z.col, "invalid time zone %q (want +hhmm or -hhmm)", z.strs[0])
			}
		}
	case "body":
		c.usesBody = true
	case "vacation":
		if a, ok := o.tags["from"]; ok && c.constant(a.strs[0]) && !strings.Contains(a.strs[0], "@") {
			return errAt(a.line, a.col, "vacation \":from\" needs an address")
		}
	case "redirect":
		if to := redirectAddress(o.pos[0].strs[0]); c.constant(to) && !validRedirect(to) {
			return errAt(o.pos[0].line, o.pos[0].col, "redirect to invalid address %q", to)
		}
	case "fileinto":
		if mb := o.pos[0].strs[0]; c.constant(mb) && (mb == "" || !utf8.ValidString(mb)) {
			return errAt(o.pos[0].line, o.pos[0].col, "invalid mailbox name %q", mb)
		}
	case "include":
		return c.include(o)
	}
	return nil
}

// include compiles an included script (RFC 6609 §3.2) through
// Options.Include, within the include count and depth limits.
func (c *compiler) include(o *op) error {
	name := o.pos[0].strs[0]
	if name == "" || strings.ContainsAny(name, "/\x00") {
		return errAt(o.pos[0].line, o.pos[0].col, "invalid script name %q", name)
	}
	if c.opts.Include == nil {
		return errAt(o.line, o.col, "include is not available here")
	}
	global := o.has("global")
	key := "personal/" + name
	if global {
		key = "global/" + name
	}
	o.include = key
	if _, done := c.includes[key]; done {
		return nil
	}
	*c.count++
	if *c.count > c.opts.Limits.MaxIncludes {
		return errAt(o.line, o.col, "more than %d includes", c.opts.Limits.MaxIncludes)
	}
	if c.depth+1 > c.opts.Limits.MaxIncludeDepth {
		return errAt(o.line, o.col, "includes nested more than %d deep", c.opts.Limits.MaxIncludeDepth)
	}
	src, err := c.opts.Include(global, name)
	if err != nil {
		if o.has("optional") && errors.Is(err, ErrIncludeNotFound) {
			c.includes[key] = nil
			return nil
		}
		return errAt(o.line, o.col, "include %q: %v", name, err)
	}
	inc, err := compileScript(src, c.opts, c.count, c.depth+1)
	if err != nil {
		var ce *CompileError
		if errors.As(err, &ce) {
			return errAt(o.line, o.col, "in included script %q, line %d: %s", name, ce.Line, ce.Msg)
		}
		return errAt(o.line, o.col, "include %q: %v", name, err)
	}
	c.includes[key] = inc
	return nil
}

// decodeEncoded replaces "${hex:...}" and "${unicode:...}" in every
// string of the op (RFC 5228 §2.4.2.4).
func (c *compiler) decodeEncoded(o *op) error {
	fix := func(a *arg) error {
		for i, s := range a.strs {
			d, err := decodeEncodedChars(s)
			if err != nil {
				return errAt(a.line, a.col, "%v", err)
			}
			a.strs[i] = d
		}
		return nil
	}
	for i := range o.pos {
		if err := fix(&o.pos[i]); err != nil {
			return err
		}
	}
	for k, a := range o.tags {
		if err := fix(&a); err != nil {
			return err
		}
		o.tags[k] = a
	}
	return nil
}

func compileRegex(expr string, cmp comparator) (*regexp.Regexp, error) {
	// draft-ietf-sieve-regex §3: POSIX extended regular expressions,
	// leftmost-longest; Go's syntax is a superset. i;ascii-casemap
	// matches case-insensitively.
	if cmp == cmpCasemap {
		expr = "(?i)" + expr
	}
	re, err := regexp.Compile(expr)
	if err != nil {
		return nil, fmt.Errorf("invalid regular expression: %v", err)
	}
	re.Longest()
	return re, nil
}

// notAddressField names the well-known fields that hold no addresses
// (RFC 5322 §3.6, RFC 2045); others, X- fields included, may.
func notAddressField(name string) bool {
	switch strings.ToLower(name) {
	case "subject", "date", "message-id", "in-reply-to", "references", "comments",
		"keywords", "received", "resent-date", "resent-message-id", "mime-version",
		"content-type", "content-transfer-encoding", "content-disposition", "content-id",
		"content-description", "list-id":
		return true
	}
	return false
}
