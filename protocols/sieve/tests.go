package sieve

import (
	"crypto/sha256"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// test evaluates a test (RFC 5228 §5).
func (st *state) test(f *frame, o *op) (bool, error) {
	if err := st.step(o); err != nil {
		return false, err
	}
	switch o.name {
	case "true":
		return true, nil
	case "false":
		return false, nil
	case "not":
		ok, err := st.test(f, o.tests[0])
		return !ok, err
	case "allof":
		// RFC 5228 §5.2: evaluation stops at the first false test.
		for _, t := range o.tests {
			ok, err := st.test(f, t)
			if err != nil || !ok {
				return false, err
			}
		}
		return true, nil
	case "anyof":
		for _, t := range o.tests {
			ok, err := st.test(f, t)
			if err != nil || ok {
				return ok, err
			}
		}
		return false, nil
	case "exists":
		// RFC 5228 §5.5: true when every named field exists.
		for _, name := range f.strs(st, o.pos[0]) {
			found := false
			for _, fl := range st.fields {
				if strings.EqualFold(fl.name, name) {
					found = true
					break
				}
			}
			if !found {
				return false, nil
			}
		}
		return true, nil
	case "size":
		// RFC 5228 §5.9.
		n := o.pos[0].num
		if o.has("over") {
			return st.msg.Size > n, nil
		}
		return st.msg.Size < n, nil
	case "header":
		return st.match(f, o, st.headerValues(f, o, f.strs(st, o.pos[0]), true), f.strs(st, o.pos[1]))
	case "address":
		var values []string
		var names []string
		for _, n := range f.strs(st, o.pos[0]) {
			if !notAddressField(n) {
				names = append(names, n)
			}
		}
		for _, v := range st.headerValues(f, o, names, false) {
			for _, a := range st.addresses(v) {
				if p, ok := addressPartOf(a, o.part); ok {
					values = append(values, p)
				}
			}
		}
		return st.match(f, o, values, f.strs(st, o.pos[1]))
	case "envelope":
		return st.envelope(f, o)
	case "string":
		// RFC 5229 §5: for :count, empty strings do not count.
		values := f.strs(st, o.pos[0])
		if o.mt == mtCount {
			var nonEmpty []string
			for _, v := range values {
				if v != "" {
					nonEmpty = append(nonEmpty, v)
				}
			}
			values = nonEmpty
		}
		return st.match(f, o, values, f.strs(st, o.pos[1]))
	case "hasflag":
		// RFC 5232 §4: each flag of the variables is one value.
		var values []string
		if o.pos[0].line == -1 {
			values = st.flags
		} else {
			for _, name := range f.strs(st, o.pos[0]) {
				v, _ := f.get(st, name)
				values = unionFlags(values, strings.Fields(v))
			}
		}
		return st.match(f, o, values, f.strs(st, o.pos[1]))
	case "mailboxexists":
		// RFC 5490 §3.1: true when every mailbox exists.
		for _, name := range f.strs(st, o.pos[0]) {
			if st.env.MailboxExists == nil || !st.env.MailboxExists(name) {
				return false, nil
			}
		}
		return true, nil
	case "body":
		return st.bodyTest(f, o)
	case "date", "currentdate":
		return st.dateTest(f, o)
	case "duplicate":
		return st.duplicate(f, o)
	case "spamtest", "virustest":
		return st.spamTest(f, o)
	case "environment":
		name, err := f.str(st, o.pos[0])
		if err != nil {
			return false, &RuntimeError{Line: o.line, Err: err}
		}
		v, ok := st.environment(strings.ToLower(name))
		if !ok {
			return false, nil // RFC 5183 §4: an unknown item fails the test
		}
		return st.match(f, o, []string{v}, f.strs(st, o.pos[1]))
	}
	return false, &RuntimeError{Line: o.line, Err: fmt.Errorf("test %q not implemented", o.name)}
}

// headerValues returns the values of the named fields, with :index and
// :last applied per name (RFC 5260 §6); decoded tells whether RFC 2047
// words are decoded (header: yes; address: the address parser sees the
// raw value).
func (st *state) headerValues(f *frame, o *op, names []string, decoded bool) []string {
	var out []string
	for _, name := range names {
		var vals []string
		for i := range st.fields {
			if strings.EqualFold(st.fields[i].name, name) {
				vals = append(vals, st.fieldValue(i, decoded))
			}
		}
		vals = applyIndex(o, vals)
		out = append(out, vals...)
	}
	return out
}

// applyIndex keeps only the :index'th value (1-based), counted from the
// end with :last (RFC 5260 §6).
func applyIndex(o *op, vals []string) []string {
	a, ok := o.tags["index"]
	if !ok {
		return vals
	}
	n := int(a.num)
	if n < 1 || n > len(vals) {
		return nil
	}
	if o.has("last") {
		return vals[len(vals)-n : len(vals)-n+1]
	}
	return vals[n-1 : n]
}

// addressPartOf selects the address part (RFC 5228 §2.7.4, RFC 5233 §4).
func addressPartOf(a string, part addressPart) (string, bool) {
	local, domain, hasAt := splitAddress(a)
	switch part {
	case partLocal:
		return local, true
	case partDomain:
		return domain, hasAt
	case partUser:
		// RFC 5233 §4: the separator is "+"; the user is what comes
		// before the first one.
		if i := strings.IndexByte(local, '+'); i >= 0 {
			return local[:i], true
		}
		return local, true
	case partDetail:
		// RFC 5233 §4: no separator, no detail: the test fails for it.
		if i := strings.IndexByte(local, '+'); i >= 0 {
			return local[i+1:], true
		}
		return "", false
	}
	return a, true
}

// envelope runs the envelope test (RFC 5228 §5.4).
func (st *state) envelope(f *frame, o *op) (bool, error) {
	var values []string
	for _, name := range f.strs(st, o.pos[0]) {
		var addr string
		switch strings.ToLower(name) {
		case "from":
			addr = st.env.From
		case "to":
			addr = st.env.To
		case "auth":
			addr = st.env.Auth
		default:
			continue
		}
		addr = strings.Trim(addr, "<>")
		if addr == "" {
			// RFC 5228 §5.4: the null reverse-path matches as the empty
			// string whatever the address part.
			values = append(values, "")
			continue
		}
		if p, ok := addressPartOf(addr, o.part); ok {
			values = append(values, p)
		}
	}
	return st.match(f, o, values, f.strs(st, o.pos[1]))
}

// match compares values with keys under the op's comparator and match
// type (RFC 5228 §2.7, RFC 5231): true when any value matches any key.
// A successful :matches or :regex sets the match variables (RFC 5229
// §3.2).
func (st *state) match(f *frame, o *op, values, keys []string) (bool, error) {
	if o.mt == mtCount {
		// RFC 5231 §4.1: the number of values compared as a number.
		n := strconv.Itoa(len(values))
		for _, k := range keys {
			if relation(o.relation, o.cmp.compare(n, k)) {
				return true, nil
			}
		}
		return false, nil
	}
	capture := f.s.requires["variables"]
	for _, v := range values {
		for ki, k := range keys {
			// Comparing costs a step per KiB of value, so that a large
			// body against many keys is bounded too.
			if err := st.work(o, len(v)>>10); err != nil {
				return false, err
			}
			switch o.mt {
			case mtIs, mtDefault:
				if o.cmp.compare(v, k) == 0 {
					return true, nil
				}
			case mtContains:
				if o.cmp.contains(v, k) {
					return true, nil
				}
			case mtValue:
				if relation(o.relation, o.cmp.compare(v, k)) {
					return true, nil
				}
			case mtMatches:
				var caps *[]string
				var got []string
				if capture {
					caps = &got
				}
				// A glob iteration costs 1/1024 of a step.
				budget := (st.lim.MaxSteps - st.steps) << 10
				ok := o.cmp.glob(v, k, caps, &budget)
				if budget <= 0 {
					return false, &RuntimeError{Line: o.line, Err: ErrTooManySteps}
				}
				st.steps = st.lim.MaxSteps - budget>>10
				if ok {
					if capture {
						f.match = got
					}
					return true, nil
				}
			case mtRegex:
				re, err := o.regexpFor(ki, k)
				if err != nil {
					return false, &RuntimeError{Line: o.line, Err: err}
				}
				if m := re.FindStringSubmatch(v); m != nil {
					if capture {
						f.match = m
					}
					return true, nil
				}
			}
		}
	}
	return false, nil
}

// regexpFor returns the compiled :regex key: precompiled when constant,
// compiled now when it came from variables.
func (o *op) regexpFor(i int, key string) (*regexp.Regexp, error) {
	if i < len(o.regexps) && o.regexps[i] != nil {
		return o.regexps[i], nil
	}
	return compileRegex(key, o.cmp)
}

// duplicate runs the duplicate test (RFC 7352 §3): the id is a digest of
// the handle and the unique id (the Message-ID by default).
func (st *state) duplicate(f *frame, o *op) (bool, error) {
	var unique string
	switch {
	case o.has("uniqueid"):
		v, err := f.str(st, o.tags["uniqueid"])
		if err != nil {
			return false, &RuntimeError{Line: o.line, Err: err}
		}
		unique = v
	default:
		name := "Message-ID"
		if o.has("header") {
			v, err := f.str(st, o.tags["header"])
			if err != nil {
				return false, &RuntimeError{Line: o.line, Err: err}
			}
			name = v
		}
		found := false
		for _, fl := range st.fields {
			if strings.EqualFold(fl.name, name) {
				unique, found = strings.TrimSpace(fl.value()), true
				break
			}
		}
		if !found || unique == "" {
			return false, nil // RFC 7352 §3.1: no value, no tracking
		}
	}
	handle := ""
	if o.has("handle") {
		v, err := f.str(st, o.tags["handle"])
		if err != nil {
			return false, &RuntimeError{Line: o.line, Err: err}
		}
		handle = v
	}
	sum := sha256.Sum256([]byte(handle + "\x00" + unique))
	id := sum[:]
	seen := st.env.Duplicate != nil && st.env.Duplicate(id)
	for _, d := range st.dupes {
		if string(d) == string(id) {
			seen = true
		}
	}
	// RFC 7352 §3.1: record a new id; with :last, refresh a seen one.
	if !seen || o.has("last") {
		exp := maxDuplicateExpiry
		if a, ok := o.tags["seconds"]; ok {
			exp = min(max(secondsDuration(a.num), minDuplicateExpiry), maxDuplicateExpiry)
		}
		st.dupExpires = max(st.dupExpires, exp)
		dup := false
		for _, d := range st.dupes {
			if string(d) == string(id) {
				dup = true
			}
		}
		if !dup {
			if len(st.dupes) >= st.lim.MaxActions {
				return false, &RuntimeError{Line: o.line, Err: ErrTooManyActions}
			}
			st.dupes = append(st.dupes, id)
		}
	}
	return seen, nil
}

// spamTest runs spamtest and virustest (RFC 5235 §3): the score as a
// decimal string, "0" when not tested; the comparator defaults to
// i;ascii-numeric.
func (st *state) spamTest(f *frame, o *op) (bool, error) {
	var p *int
	switch {
	case o.name == "virustest":
		p = st.env.VirusScore
	case o.has("percent"):
		p = st.env.SpamPercent
	default:
		p = st.env.SpamScore
	}
	v := "0"
	if p != nil {
		v = strconv.Itoa(*p)
	}
	key, err := f.str(st, o.pos[0])
	if err != nil {
		return false, &RuntimeError{Line: o.line, Err: err}
	}
	return st.match(f, o, []string{v}, []string{key})
}

// environment answers the environment test's items (RFC 5183 §4).
func (st *state) environment(name string) (string, bool) {
	switch name {
	case "name":
		return "Surat", true
	case "version":
		return "1", true
	case "location":
		return "MDA", true
	case "phase":
		return "during", true
	}
	v, ok := st.env.Environment[name]
	return v, ok
}

// fieldValue returns field i's value, decoded or not, computing each
// once per Execute: a script tests the same fields many times.
func (st *state) fieldValue(i int, decoded bool) string {
	fl := &st.fields[i]
	if !fl.hasVal {
		fl.val, fl.hasVal = fl.value(), true
	}
	if !decoded {
		return fl.val
	}
	if !fl.hasDec {
		fl.dec, fl.hasDec = decodeHeader(fl.val), true
	}
	return fl.dec
}

// addresses parses an address field's value once per Execute.
func (st *state) addresses(value string) []string {
	if a, ok := st.addrCache[value]; ok {
		return a
	}
	a := addressesOf(value)
	if st.addrCache == nil {
		st.addrCache = map[string][]string{}
	}
	st.addrCache[value] = a
	return a
}
