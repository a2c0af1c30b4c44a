package arc

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"time"
)

// Status is a chain validation status (RFC 8617 §4.4), plus TempError for
// a chain that could not be checked because a key could not be fetched.
type Status string

const (
	None      Status = "none"      // no ARC set in the message
	Pass      Status = "pass"      // RFC 8617 §5.2 step 7
	Fail      Status = "fail"      // any failed step of RFC 8617 §5.2
	TempError Status = "temperror" // a key look-up failed temporarily; try again later
)

// ErrTemporary marks a temporary failure (a DNS error other than "not
// found", a cancelled context). It is never a verdict on the message.
var ErrTemporary = errors.New("arc: temporary failure")

// Set is one ARC set (RFC 8617 §4.1) as found in the message.
type Set struct {
	Instance int
	// Sealer is the d= of the set's ARC-Seal (lower case): the domain
	// that vouches for the chain up to this set.
	Sealer   string
	Selector string // s= of the ARC-Seal
	CV       Status // cv= the ARC-Seal claims (none, pass or fail)
	// AMSDomain is the d= of the set's ARC-Message-Signature.
	AMSDomain string
	// AuthServID and Results are read from the ARC-Authentication-Results:
	// what the sealer's authentication found when the message reached it.
	AuthServID string
	Results    []MethodResult
	// AuthResults is the ARC-Authentication-Results payload (after
	// "i=N;"), unfolded, comments removed.
	AuthResults string
}

// Result returns the set's first result for method ("dmarc", "spf", ...).
func (s Set) Result(method string) (MethodResult, bool) {
	for _, r := range s.Results {
		if r.Method == strings.ToLower(method) {
			return r, true
		}
	}
	return MethodResult{}, false
}

// Result is the outcome of verifying a message's ARC chain.
type Result struct {
	Status Status
	// Err says why Status is Fail or TempError (errors.Is(Err,
	// ErrTemporary) for the latter); nil otherwise.
	Err error
	// Sets are the ARC sets, oldest first, whenever the chain's structure
	// is valid (RFC 8617 §5.2 step 3), even if a signature then fails;
	// nil otherwise. Only a Pass makes their contents trustworthy.
	Sets []Set
	// Count is the number of ARC sets found: the highest instance when
	// the structure is valid, the number of distinct instances otherwise.
	Count int
	// OldestPass is the lowest instance whose ARC-Message-Signature still
	// verifies, 0 if all of them do (RFC 8617 §5.2 step 5); set only when
	// Status is Pass.
	OldestPass int
}

// Trusted returns the oldest ARC set that is vouched for by trusted
// sealers: the sealers of that set and of every newer set are all in
// trusted (domains, compared without case and trailing dot). Its results
// are what the first trusted hop of an unbroken run of trusted hops saw,
// e.g. its dmarc= result. ok is false when the chain does not pass or the
// newest sealer is not trusted: results written by an untrusted sealer
// prove nothing, whatever the chain says.
func (r *Result) Trusted(trusted []string) (set Set, ok bool) {
	if r == nil || r.Status != Pass {
		return Set{}, false
	}
	trusted = normalizeAll(trusted)
	for i := len(r.Sets) - 1; i >= 0; i-- {
		if !containsFold(trusted, r.Sets[i].Sealer) {
			break
		}
		set, ok = r.Sets[i], true
	}
	return set, ok
}

func normalizeAll(domains []string) []string {
	out := make([]string, len(domains))
	for i, d := range domains {
		out[i] = normalizeDomain(d)
	}
	return out
}

// DefaultMaxHeaderBytes bounds the header block a Verification keeps in
// memory; a longer header fails the chain.
const DefaultMaxHeaderBytes = 1 << 20

// Verifier checks ARC chains. The zero value is not usable: Lookup is
// required.
type Verifier struct {
	Lookup LookupTXT
	// Now is the clock for x= expiry; time.Now if nil.
	Now func() time.Time
	// MaxHeaderBytes bounds the header block; DefaultMaxHeaderBytes if 0.
	MaxHeaderBytes int
}

// Verify reads msg to the end and verifies its ARC chain (RFC 8617 §5.2).
// The body is streamed: memory stays bounded by the header, whatever the
// size of the message. The error is non-nil only if msg could not be
// read; every verdict, temporary failures included, is in the Result.
func (v *Verifier) Verify(ctx context.Context, msg io.Reader) (*Result, error) {
	w := v.NewVerification()
	if _, err := io.Copy(w, msg); err != nil {
		return nil, fmt.Errorf("arc: reading message: %w", err)
	}
	return w.Finish(ctx), nil
}

// NewVerification returns a Verification to which the raw message
// (header, empty line, body) is written as it arrives.
func (v *Verifier) NewVerification() *Verification {
	max := v.MaxHeaderBytes
	if max <= 0 {
		max = DefaultMaxHeaderBytes
	}
	return &Verification{v: v, maxHeader: max}
}

// Verification verifies one message written to it. Write never fails; the
// verdict comes from Finish. It is not safe for concurrent use.
type Verification struct {
	v         *Verifier
	maxHeader int

	header     []byte
	headerDone bool
	tooLarge   bool
	finished   bool

	fields []headerField
	chain  *chain // nil: no ARC set, or a verdict reached from the header alone
	early  *Result

	bodyOut []*bufio.Writer // one per body canonicalization in use
	bodies  []*bodyCanon
	// extraRelaxed, set by Seal before the first Write, adds a relaxed
	// body hash without length limit.
	extraRelaxed *limitedHash
	// skipChain, set by Seal when it is given the chain's verdict, skips
	// the body hashes of the existing signatures.
	skipChain bool
}

// Write takes the next bytes of the message.
func (w *Verification) Write(p []byte) (int, error) {
	n := len(p)
	if w.finished {
		return n, nil
	}
	if !w.headerDone {
		if w.tooLarge {
			return n, nil
		}
		start := max(0, len(w.header)-3)
		w.header = append(w.header, p...)
		end, bodyStart := headerEnd(w.header, start)
		if end < 0 {
			if len(w.header) > w.maxHeader {
				w.tooLarge = true
				w.header = nil
			}
			return n, nil
		}
		if end > w.maxHeader {
			w.tooLarge = true
			w.header = nil
			return n, nil
		}
		body := w.header[bodyStart:]
		w.header = w.header[:end]
		w.startBody()
		w.writeBody(body)
		return n, nil
	}
	w.writeBody(p)
	return n, nil
}

// headerEnd finds the empty line that ends the header, searching from
// start: it returns the end of the header block (after the CRLF of its
// last field) and where the body starts, or -1.
func headerEnd(b []byte, start int) (end, body int) {
	// A message that starts with an empty line has an empty header.
	if bytes.HasPrefix(b, crlf) {
		return 0, 2
	}
	if len(b) > 0 && b[0] == '\n' {
		return 0, 1
	}
	for i := start; i < len(b); i++ {
		if b[i] != '\n' {
			continue
		}
		j := i + 1
		if j < len(b) && b[j] == '\r' {
			j++
		}
		if j < len(b) && b[j] == '\n' {
			return i + 1, j + 1
		}
	}
	return -1, -1
}

func (w *Verification) writeBody(p []byte) {
	for _, c := range w.bodies {
		c.Write(p) // errors come from the hashes, which never fail
	}
}

// startBody parses the header and sets up the body hashes the chain needs.
func (w *Verification) startBody() {
	w.headerDone = true
	w.fields = splitHeader(w.header)
	c, early := collectChain(w.fields)
	if early != nil {
		w.early = early
	}
	w.chain = c
	var targets = map[canon][]io.Writer{}
	if c != nil && early == nil && !w.skipChain {
		for _, s := range c.sets {
			if s.ams == nil || s.amsErr != nil {
				continue
			}
			s.bodyHash = &limitedHash{h: sha256.New(), limit: s.ams.length}
			targets[s.ams.bodyCanon] = append(targets[s.ams.bodyCanon], s.bodyHash)
		}
	}
	if w.extraRelaxed != nil {
		targets[canonRelaxed] = append(targets[canonRelaxed], w.extraRelaxed)
	}
	for _, cn := range []canon{canonSimple, canonRelaxed} {
		if len(targets[cn]) == 0 {
			continue
		}
		bw := bufio.NewWriterSize(io.MultiWriter(targets[cn]...), 32<<10)
		w.bodyOut = append(w.bodyOut, bw)
		w.bodies = append(w.bodies, newBodyCanon(bw, cn))
	}
}

// Finish ends the message and returns the verdict, looking keys up with
// ctx. It may be called once.
func (w *Verification) Finish(ctx context.Context) *Result {
	if w.finished {
		return &Result{Status: Fail, Err: errors.New("arc: Finish called twice")}
	}
	w.finishBody()
	if w.tooLarge {
		return &Result{Status: Fail, Err: fmt.Errorf("arc: header longer than %d bytes", w.maxHeader)}
	}
	if w.early != nil {
		return w.early
	}
	return w.chain.verify(ctx, w.v, w.fields)
}

// finishBody ends the body and its hashes.
func (w *Verification) finishBody() {
	w.finished = true
	if w.tooLarge {
		return
	}
	if !w.headerDone {
		// No empty line: the whole message is header, the body empty.
		w.startBody()
	}
	for i, b := range w.bodies {
		b.Close()
		w.bodyOut[i].Flush()
	}
}

func newSHA256() hash.Hash { return sha256.New() }

// limitedHash hashes at most limit bytes (all if limit < 0), counting
// what it was given (RFC 6376 §3.5 l=).
type limitedHash struct {
	h     hash.Hash
	limit int64
	n     int64
}

func (l *limitedHash) Write(p []byte) (int, error) {
	n := len(p)
	if l.limit >= 0 {
		if room := l.limit - l.n; int64(len(p)) > room {
			p = p[:max(room, 0)]
		}
	}
	l.h.Write(p)
	l.n += int64(n)
	return n, nil
}

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
	bodyHash        *limitedHash
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

// verify runs RFC 8617 §5.2 steps 4 to 7 once the body has been hashed.
func (c *chain) verify(ctx context.Context, v *Verifier, fields []headerField) *Result {
	n := len(c.sets)
	res := &Result{Count: n}
	fail := func(err error) *Result {
		res.Status = Fail
		if errors.Is(err, ErrTemporary) {
			res.Status = TempError
		}
		res.Err = err
		return res
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	keys := keyCache{lookup: v.Lookup, keys: map[string]keyAnswer{}}
	for _, s := range c.sets {
		servID, results := parseAuthResults(s.aarPayload)
		set := Set{
			Instance:    s.instance,
			Sealer:      s.seal.domain,
			Selector:    s.seal.selector,
			CV:          s.seal.cv,
			AuthServID:  servID,
			Results:     results,
			AuthResults: s.aarPayload,
		}
		if s.ams != nil {
			set.AMSDomain = s.ams.domain
		}
		res.Sets = append(res.Sets, set)
	}
	// RFC 8617 §5.2 step 4: the newest AMS must verify.
	if err := c.verifyAMS(ctx, &keys, fields, n, now()); err != nil {
		return fail(fmt.Errorf("arc: ARC-Message-Signature i=%d: %w", n, err))
	}
	// RFC 8617 §5.2 step 5: the oldest AMS that still verifies, going
	// back until one does not.
	oldest := 0
	for i := n - 1; i >= 1; i-- {
		if err := c.verifyAMS(ctx, &keys, fields, i, now()); err != nil {
			oldest = i + 1
			break
		}
	}
	// RFC 8617 §5.2 step 6: every seal, newest first.
	for i := n; i >= 1; i-- {
		if err := c.verifyAS(ctx, &keys, i); err != nil {
			return fail(fmt.Errorf("arc: ARC-Seal i=%d: %w", i, err))
		}
	}
	// RFC 8617 §5.2 step 7.
	res.Status = Pass
	res.OldestPass = oldest
	return res
}

// verifyAMS verifies instance i's ARC-Message-Signature like a DKIM
// signature (RFC 6376 §6.1.3), with its body hash computed while the body
// streamed.
func (c *chain) verifyAMS(ctx context.Context, keys *keyCache, fields []headerField, i int, now time.Time) error {
	s := c.sets[i-1]
	if s.amsErr != nil {
		return s.amsErr
	}
	m := s.ams
	if expired(m.tags, now) {
		return errors.New("signature expired (x=)")
	}
	if m.length >= 0 && s.bodyHash.n < m.length {
		// RFC 6376 §6.1.3: a body shorter than l= cannot match.
		return fmt.Errorf("body is %d bytes after canonicalization, l=%d", s.bodyHash.n, m.length)
	}
	if !bytes.Equal(s.bodyHash.h.Sum(nil), m.bodyHash) {
		return errors.New("body hash does not match bh=")
	}
	key, err := keys.get(ctx, m.selector, m.domain)
	if err != nil {
		return err
	}
	digest := hashSigned(selectFields(fields, m.signed), withoutB(s.amsF, m.signature), m.headerCanon)
	return verifyDigest(key, m.algorithm, digest, m.sig)
}

// verifyAS verifies instance i's ARC-Seal over the sets 1..i (RFC 8617
// §5.1.1): for each, its AAR, AMS and AS, relaxed, the seal being
// verified last and without b='s value.
func (c *chain) verifyAS(ctx context.Context, keys *keyCache, i int) error {
	s := c.sets[i-1]
	key, err := keys.get(ctx, s.seal.selector, s.seal.domain)
	if err != nil {
		return err
	}
	digest := hashSigned(sealedFields(c.sets[:i-1], s.aar, s.amsF), withoutB(s.asF, s.seal.signature), canonRelaxed)
	return verifyDigest(key, s.seal.algorithm, digest, s.seal.sig)
}

// sealedFields lists the fields an ARC-Seal covers before its own: the
// complete earlier sets, then the AAR and AMS of its set (RFC 8617 §5.1.1).
func sealedFields(earlier []*arcSet, aar, amsF headerField) [][]byte {
	out := make([][]byte, 0, 3*len(earlier)+2)
	for _, e := range earlier {
		out = append(out, e.aar.raw, e.amsF.raw, e.asF.raw)
	}
	return append(out, aar.raw, amsF.raw)
}

// selectFields picks the fields named in h=, each name taking the last
// unused field of that name, bottom up; a name with no field left adds
// nothing (RFC 6376 §5.4.2).
func selectFields(fields []headerField, names []string) [][]byte {
	used := map[string]int{}
	var out [][]byte
	for _, name := range names {
		skip := used[name]
		for j := len(fields) - 1; j >= 0; j-- {
			if fields[j].name != name {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			out = append(out, fields[j].raw)
			break
		}
		used[name]++
	}
	return out
}

// keyCache asks DNS once per key name within one verification: a chain
// of 50 sets sealed by one domain needs one look-up, not a hundred.
type keyCache struct {
	lookup LookupTXT
	keys   map[string]keyAnswer
}

type keyAnswer struct {
	key *publicKey
	err error
}

func (k *keyCache) get(ctx context.Context, selector, domain string) (*publicKey, error) {
	name := keyName(selector, domain)
	if a, ok := k.keys[name]; ok {
		return a.key, a.err
	}
	if k.lookup == nil {
		return nil, fmt.Errorf("%w: no DNS resolver configured", ErrTemporary)
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemporary, err)
	}
	key, err := lookupKey(ctx, k.lookup, selector, domain)
	k.keys[name] = keyAnswer{key, err}
	return key, err
}
