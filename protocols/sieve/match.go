package sieve

import (
	"strings"
	"unicode/utf8"
)

// comparator is a collation (RFC 4790) a match uses.
type comparator int

const (
	cmpCasemap comparator = iota // i;ascii-casemap, the default (RFC 5228 §2.7.3)
	cmpOctet                     // i;octet
	cmpNumeric                   // i;ascii-numeric (RFC 4790 §9.1)
)

func comparatorNamed(name string) (comparator, bool) {
	switch strings.ToLower(name) {
	case "i;ascii-casemap":
		return cmpCasemap, true
	case "i;octet":
		return cmpOctet, true
	case "i;ascii-numeric":
		return cmpNumeric, true
	}
	return 0, false
}

// matchType is how a value is compared to a key (RFC 5228 §2.7.1,
// RFC 5231, draft-ietf-sieve-regex).
type matchType int

const (
	mtDefault matchType = iota // :is
	mtIs
	mtContains
	mtMatches
	mtRegex
	mtValue
	mtCount
)

// addressPart selects part of an address (RFC 5228 §2.7.4, RFC 5233).
type addressPart int

const (
	partDefault addressPart = iota // :all
	partAll
	partLocal
	partDomain
	partUser
	partDetail
)

// foldByte lower-cases an ASCII letter (i;ascii-casemap).
func foldByte(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func (c comparator) equalByte(a, b byte) bool {
	if c == cmpCasemap {
		return foldByte(a) == foldByte(b)
	}
	return a == b
}

// numericValue is i;ascii-numeric's value of a string: its leading
// digits; a string not starting with a digit is positive infinity
// (RFC 4790 §9.1.1).
func numericValue(s string) (digits string, inf bool) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i == 0 {
		return "", true
	}
	d := strings.TrimLeft(s[:i], "0")
	return d, false
}

// compare orders a and b under the comparator: -1, 0 or 1.
func (c comparator) compare(a, b string) int {
	switch c {
	case cmpNumeric:
		da, ia := numericValue(a)
		db, ib := numericValue(b)
		switch {
		case ia && ib:
			return 0
		case ia:
			return 1
		case ib:
			return -1
		}
		if len(da) != len(db) {
			if len(da) < len(db) {
				return -1
			}
			return 1
		}
		return strings.Compare(da, db)
	case cmpCasemap:
		n := min(len(a), len(b))
		for i := 0; i < n; i++ {
			x, y := foldByte(a[i]), foldByte(b[i])
			if x != y {
				if x < y {
					return -1
				}
				return 1
			}
		}
		switch {
		case len(a) < len(b):
			return -1
		case len(a) > len(b):
			return 1
		}
		return 0
	}
	return strings.Compare(a, b)
}

// contains reports whether key is a substring of value. Casemap folds
// ASCII letters of both first, so the search stays strings.Contains'
// (no quadratic scan of a large body).
func (c comparator) contains(value, key string) bool {
	if c == cmpCasemap {
		return strings.Contains(asciiLower(value), asciiLower(key))
	}
	return strings.Contains(value, key)
}

// asciiLower folds ASCII letters only (i;ascii-casemap), returning s
// itself when it has none.
func asciiLower(s string) string {
	i := 0
	for i < len(s) && !(s[i] >= 'A' && s[i] <= 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		b[i] = foldByte(b[i])
	}
	return string(b)
}

// relation applies a relational operator (RFC 5231 §4) to an order.
func relation(op string, cmp int) bool {
	switch op {
	case "gt":
		return cmp > 0
	case "ge":
		return cmp >= 0
	case "lt":
		return cmp < 0
	case "le":
		return cmp <= 0
	case "eq":
		return cmp == 0
	case "ne":
		return cmp != 0
	}
	return false
}

// globToken is one element of a :matches pattern.
type globToken struct {
	kind byte // 'l' literal byte, '?' one character, '*' any sequence
	c    byte
}

func compileGlob(pattern string) []globToken {
	toks := make([]globToken, 0, len(pattern))
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '\\':
			// RFC 5228 §2.7.1: "\" escapes the next character in a
			// :matches key ("\*", "\?", "\\").
			if i+1 < len(pattern) {
				i++
				toks = append(toks, globToken{kind: 'l', c: pattern[i]})
			}
		case '*':
			toks = append(toks, globToken{kind: '*'})
		case '?':
			toks = append(toks, globToken{kind: '?'})
		default:
			toks = append(toks, globToken{kind: 'l', c: c})
		}
	}
	return toks
}

// glob matches value against a :matches pattern (RFC 5228 §2.7.1). With
// captures non-nil it fills them with what each wildcard matched, in
// order (RFC 5229 §3.2); each "*" matches as little as it can, the
// leftmost first. The algorithm backtracks only to the last "*", so it
// runs in O(len(value)·len(pattern)); budget, when not nil, bounds the
// iterations: glob fails when it runs out, leaving it at zero or below.
func (c comparator) glob(value, pattern string, captures *[]string, budget *int) bool {
	toks := compileGlob(pattern)
	type span struct{ start, end int }
	var spans []span
	var wild []int // for each token index, its wildcard number, or -1
	if captures != nil {
		wild = make([]int, len(toks))
		for i, t := range toks {
			wild[i] = -1
			if t.kind != 'l' {
				wild[i] = len(spans)
				spans = append(spans, span{})
			}
		}
	}
	p, s := 0, 0
	starP, starS := -1, 0
	for s < len(value) {
		if budget != nil {
			*budget--
			if *budget <= 0 {
				return false
			}
		}
		if p < len(toks) {
			switch t := toks[p]; t.kind {
			case '*':
				starP, starS = p, s
				if wild != nil {
					spans[wild[p]] = span{s, s}
				}
				p++
				continue
			case '?':
				_, n := utf8.DecodeRuneInString(value[s:])
				if wild != nil {
					spans[wild[p]] = span{s, s + n}
				}
				p++
				s += n
				continue
			default:
				if c.equalByte(value[s], t.c) {
					p++
					s++
					continue
				}
			}
		}
		if starP < 0 {
			return false
		}
		_, n := utf8.DecodeRuneInString(value[starS:])
		starS += n
		s = starS
		p = starP + 1
		if wild != nil {
			spans[wild[starP]].end = starS
		}
	}
	for p < len(toks) && toks[p].kind == '*' {
		if wild != nil {
			spans[wild[p]] = span{s, s}
		}
		p++
	}
	if p != len(toks) {
		return false
	}
	if captures != nil {
		out := make([]string, 0, len(spans)+1)
		out = append(out, value)
		for _, sp := range spans {
			out = append(out, value[sp.start:sp.end])
		}
		*captures = out
	}
	return true
}
