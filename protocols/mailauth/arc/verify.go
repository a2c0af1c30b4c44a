package arc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
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
	// RFC 8617 §5.2 step 6: every seal, newest first. Step 5 comes after
	// it here: it never fails the chain, so its look-ups are spent only
	// on a chain that passes.
	for i := n; i >= 1; i-- {
		if err := c.verifyAS(ctx, &keys, i); err != nil {
			return fail(fmt.Errorf("arc: ARC-Seal i=%d: %w", i, err))
		}
	}
	// RFC 8617 §5.2 step 5: the oldest AMS that still verifies, going
	// back until one does not (for any reason: a temporary look-up
	// failure there ends the search too).
	oldest := 0
	for i := n - 1; i >= 1; i-- {
		if err := c.verifyAMS(ctx, &keys, fields, i, now()); err != nil {
			oldest = i + 1
			break
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
	bh, err := s.body.sum(m.length)
	if err != nil {
		return err
	}
	if !bytes.Equal(bh, m.bodyHash) {
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
