package sieve

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// str returns a string argument, with variables expanded when the
// script requires "variables" (RFC 5229 §3).
func (f *frame) str(st *state, a arg) (string, error) {
	if len(a.strs) == 0 {
		return "", nil
	}
	return f.expand(st, a.strs[0])
}

// strs returns a string list argument, expanded. An expansion error
// (an over-long result) leaves that string as written.
func (f *frame) strs(st *state, a arg) []string {
	if !f.s.requires["variables"] {
		return a.strs
	}
	plain := true
	for _, s := range a.strs {
		if strings.Contains(s, "${") {
			plain = false
			break
		}
	}
	if plain {
		return a.strs
	}
	out := make([]string, len(a.strs))
	for i, s := range a.strs {
		v, err := f.expand(st, s)
		if err != nil {
			v = s
		}
		out[i] = v
	}
	return out
}

// expand replaces "${name}" and "${N}" (RFC 5229 §3). Names are
// case-insensitive; unknown variables expand to the empty string; text
// that is not a valid reference stays as it is.
func (f *frame) expand(st *state, s string) (string, error) {
	if !f.s.requires["variables"] || !strings.Contains(s, "${") {
		return s, nil
	}
	limit := 64 * st.lim.MaxVariableLen
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		rest := s[i+2:]
		j := strings.IndexByte(rest, '}')
		if j < 0 || !validReference(rest[:j]) {
			b.WriteString("${")
			s = rest
			continue
		}
		v, _ := f.get(st, rest[:j])
		b.WriteString(v)
		s = rest[j+1:]
		if b.Len() > limit {
			return "", ErrTooLong
		}
	}
	if b.Len() > limit {
		return "", ErrTooLong
	}
	return b.String(), nil
}

// validReference: num-variable, or identifier *("." identifier)
// (RFC 5229 §3).
func validReference(name string) bool {
	if name == "" {
		return false
	}
	if isDigit(name[0]) {
		for i := 0; i < len(name); i++ {
			if !isDigit(name[i]) {
				return false
			}
		}
		return true
	}
	for _, part := range strings.Split(name, ".") {
		if !validIdentifier(part) {
			return false
		}
	}
	return true
}

func validIdentifier(s string) bool {
	if s == "" || !(isAlpha(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		if !(isAlpha(s[i]) || isDigit(s[i]) || s[i] == '_') {
			return false
		}
	}
	return true
}

// get reads a variable: a match variable, a global (RFC 6609 §3.4: a
// name declared global, or "global.name"), or a local one.
func (f *frame) get(st *state, name string) (string, bool) {
	if name == "" {
		return "", false
	}
	name = strings.ToLower(name)
	if isDigit(name[0]) {
		n, err := strconv.Atoi(name)
		if err != nil || n >= len(f.match) {
			return "", false
		}
		return f.match[n], true
	}
	if g, ok := strings.CutPrefix(name, "global."); ok {
		v, ok := st.globals[g]
		return v, ok
	}
	if f.isGlobal[name] {
		v, ok := st.globals[name]
		return v, ok
	}
	v, ok := f.vars[name]
	return v, ok
}

// setVar writes a variable, truncated to MaxVariableLen at a character
// boundary (RFC 5229 §6 allows truncation).
func (f *frame) setVar(st *state, o *op, name, value string) error {
	name = strings.ToLower(name)
	if !validReference(name) || isDigit(name[0]) {
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("invalid variable name %q", name)}
	}
	if len(value) > st.lim.MaxVariableLen {
		value = value[:st.lim.MaxVariableLen]
		for i := 0; i < 3 && len(value) > 0; i++ {
			if r, size := utf8.DecodeLastRuneInString(value); r != utf8.RuneError || size != 1 {
				break
			}
			value = value[:len(value)-1]
		}
	}
	if g, ok := strings.CutPrefix(name, "global."); ok {
		st.globals[g] = value
		return nil
	}
	if f.isGlobal[name] {
		st.globals[name] = value
		return nil
	}
	if strings.Contains(name, ".") {
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("variable %q is in a read-only namespace", name)}
	}
	f.vars[name] = value
	return nil
}

// set runs the set command with its modifiers, applied in the order of
// RFC 5229 §4.1: :lower/:upper (40), :lowerfirst/:upperfirst (30),
// :quotewildcard/:quoteregex (20), :length (10).
func (st *state) set(f *frame, o *op) error {
	name, err := f.str(st, o.pos[0])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	v, err := f.str(st, o.pos[1])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	switch {
	case o.has("lower"):
		v = strings.ToLower(v)
	case o.has("upper"):
		v = strings.ToUpper(v)
	}
	if v != "" {
		r, n := utf8.DecodeRuneInString(v)
		switch {
		case o.has("lowerfirst"):
			v = strings.ToLower(string(r)) + v[n:]
		case o.has("upperfirst"):
			v = strings.ToUpper(string(r)) + v[n:]
		}
	}
	if o.has("quotewildcard") {
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if c := v[i]; c == '*' || c == '?' || c == '\\' {
				b.WriteByte('\\')
			}
			b.WriteByte(v[i])
		}
		v = b.String()
	}
	if o.has("quoteregex") {
		v = regexp.QuoteMeta(v)
	}
	if o.has("length") {
		v = strconv.Itoa(utf8.RuneCountInString(v))
	}
	return f.setVar(st, o, name, v)
}
