package arc

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ams is a parsed ARC-Message-Signature (RFC 8617 §4.1.2).
type ams struct {
	*signature
	headerCanon, bodyCanon canon
	signed                 []string // h=, lower case
	bodyHash               []byte   // bh=
	length                 int64    // l=, -1 if absent
}

// as is a parsed ARC-Seal (RFC 8617 §4.1.3).
type as struct {
	*signature
	cv Status
}

// arcSet is one instance's fields as found.
type arcSet struct {
	instance        int
	aar, amsF, asF  headerField
	aarPayload      string
	ams             *ams
	amsErr          error
	seal            *as
	body            *bodyHasher // the hash of the AMS's body canonicalization
	nAAR, nAMS, nAS int
}

type chain struct {
	sets []*arcSet // index i holds instance i+1
}

// arcFieldNames are the ARC header fields, lower case (RFC 8617 §4.1).
const (
	nameAAR = "arc-authentication-results"
	nameAMS = "arc-message-signature"
	nameAS  = "arc-seal"
)

// collectChain gathers the ARC sets and runs the checks of RFC 8617 §5.2
// that need no key and no body: steps 1 to 3. It returns (nil, nil) for a
// message without ARC fields, a verdict when one is reached, or the chain
// to verify.
func collectChain(fields []headerField) (*chain, *Result) {
	byInstance := map[int]*arcSet{}
	get := func(i int) *arcSet {
		s := byInstance[i]
		if s == nil {
			s = &arcSet{instance: i}
			byInstance[i] = s
		}
		return s
	}
	fail := func(format string, a ...any) (*chain, *Result) {
		return nil, &Result{Status: Fail, Err: fmt.Errorf("arc: "+format, a...), Count: len(byInstance)}
	}
	found := false
	for _, f := range fields {
		switch f.name {
		case nameAAR:
			found = true
			i, payload, err := parseAAR(string(f.value()))
			if err != nil {
				return fail("ARC-Authentication-Results: %v", err)
			}
			s := get(i)
			s.nAAR++
			s.aar, s.aarPayload = f, payload
		case nameAMS, nameAS:
			found = true
			tags, err := parseTags(string(f.value()))
			if err != nil {
				return fail("%s: %v", f.name, err)
			}
			iv, ok := tags.get("i")
			if !ok {
				return fail("%s: missing i=", f.name)
			}
			i, err := parseInstance(iv)
			if err != nil {
				return fail("%s: %v", f.name, err)
			}
			s := get(i)
			if f.name == nameAMS {
				s.nAMS++
				s.amsF = f
			} else {
				s.nAS++
				s.asF = f
			}
		}
	}
	// RFC 8617 §5.2 step 1: no ARC sets, status none.
	if !found {
		return nil, &Result{Status: None}
	}
	// RFC 8617 §4.2.1, §5.2 step 1: more than 50 sets, or an instance
	// beyond 50, fails.
	n := 0
	for i := range byInstance {
		n = max(n, i)
	}
	if n > maxInstance || len(byInstance) > maxInstance {
		return fail("%d ARC sets (instance %d); at most %d are allowed", len(byInstance), n, maxInstance)
	}
	// RFC 8617 §5.2 step 2: the newest seal says the chain already failed.
	if top := byInstance[n]; top != nil && top.nAS == 1 {
		if sig, err := parseSignature(top.asF.value()); err == nil {
			if cv, _ := sig.tags.get("cv"); strings.EqualFold(trimFWS(cv), string(Fail)) {
				return fail("ARC-Seal i=%d has cv=fail", n)
			}
		}
	}
	// RFC 8617 §5.2 step 3: exactly one of each field per set, instances
	// 1..N without gaps, cv=none at 1 and cv=pass after.
	c := &chain{sets: make([]*arcSet, n)}
	for i := 1; i <= n; i++ {
		s := byInstance[i]
		if s == nil {
			return fail("ARC set i=%d is missing (highest is %d)", i, n)
		}
		if s.nAAR != 1 || s.nAMS != 1 || s.nAS != 1 {
			return fail("ARC set i=%d has %d ARC-Authentication-Results, %d ARC-Message-Signature, %d ARC-Seal; want one of each",
				i, s.nAAR, s.nAMS, s.nAS)
		}
		sig, err := parseSignature(s.asF.value())
		if err != nil {
			return fail("ARC-Seal i=%d: %v", i, err)
		}
		if _, ok := sig.tags.get("h"); ok {
			// RFC 8617 §4.1.3: the seal covers the ARC sets only; an h=
			// has no meaning there and is refused, as other verifiers do.
			return fail("ARC-Seal i=%d has an h= tag", i)
		}
		cv, _ := sig.tags.get("cv")
		seal := &as{signature: sig, cv: Status(strings.ToLower(trimFWS(cv)))}
		want := Pass
		if i == 1 {
			want = None
		}
		if seal.cv != want {
			return fail("ARC-Seal i=%d has cv=%s; want cv=%s", i, cv, want)
		}
		s.seal = seal
		s.ams, s.amsErr = parseAMS(s.amsF.value())
		c.sets[i-1] = s
	}
	return c, nil
}

// parseAMS parses an ARC-Message-Signature: DKIM-Signature syntax with i=
// the instance and no v= (RFC 8617 §4.1.2).
func parseAMS(value []byte) (*ams, error) {
	sig, err := parseSignature(value)
	if err != nil {
		return nil, err
	}
	m := &ams{signature: sig, length: -1}
	cv, hasC := sig.tags.get("c")
	var ok bool
	if m.headerCanon, m.bodyCanon, ok = parseCanon(cv, hasC); !ok {
		return nil, fmt.Errorf("invalid c=%s", cv)
	}
	h, ok := sig.tags.get("h")
	if !ok {
		return nil, errors.New("missing h=")
	}
	from := false
	for _, name := range splitColon(h) {
		name = strings.ToLower(name)
		switch name {
		case "":
			return nil, fmt.Errorf("empty field name in h=%s", h)
		case "from":
			from = true
		case nameAS:
			// RFC 8617 §4.1.2: ARC-Seal fields are never in the AMS's scope.
			return nil, errors.New("h= lists ARC-Seal")
		}
		m.signed = append(m.signed, name)
	}
	if !from {
		// RFC 6376 §5.4: the From field must be signed; the AMS keeps
		// DKIM's rule (RFC 8617 §4.1.2).
		return nil, errors.New("h= does not list From")
	}
	bh, ok := sig.tags.get("bh")
	if !ok {
		return nil, errors.New("missing bh=")
	}
	if m.bodyHash, err = base64.StdEncoding.DecodeString(stripFWS(bh)); err != nil {
		return nil, fmt.Errorf("bh= is not base64: %w", err)
	}
	if l, ok := sig.tags.get("l"); ok {
		// RFC 6376 §3.5 l=: at most 76 digits; RFC 8617 keeps it.
		n, err := strconv.ParseInt(l, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("invalid l=%s", l)
		}
		m.length = n
	}
	return m, nil
}
