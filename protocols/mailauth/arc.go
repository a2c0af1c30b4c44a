package mailauth

import (
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/mailauth/arc"
)

// ARCChain is the chain validation status of RFC 8617 §4.4, with
// temperror for a chain that could not be checked for now.
type ARCChain string

const (
	ARCNone      ARCChain = "none"
	ARCPass      ARCChain = "pass"
	ARCFail      ARCChain = "fail"
	ARCTempError ARCChain = "temperror"
)

// ARCSet is what the verdict uses of one ARC set.
type ARCSet struct {
	Instance int
	Sealer   string // d= of the ARC-Seal, lower case
	// DMARC is the dmarc= result in the set's ARC-Authentication-Results
	// ("" when absent): what the sealer found when the message reached it.
	DMARC string
}

// ARCResult is what the verdict needs from an ARC verification.
type ARCResult struct {
	Chain ARCChain
	// Sets are the ARC sets, oldest (i=1) first, when the chain's
	// structure is valid.
	Sets   []ARCSet
	Reason string // why the chain failed
}

// ARCVerifier verifies the ARC chain of one message at a time (RFC 8617
// §5.2). Start returns the verification of one message: the whole message
// (header section and body) is written to it as it streams, without
// blocking, and Finish, which may look keys up, gives the result.
type ARCVerifier interface {
	Start() ARCRun
}

// ARCRun is one message's ARC verification.
type ARCRun interface {
	io.Writer
	Finish(ctx context.Context) ARCResult
}

// newARCVerifier is the ARCVerifier of protocols/mailauth/arc, looking
// keys up with lookup.
func newARCVerifier(lookup func(ctx context.Context, name string) ([]string, error), now func() time.Time) ARCVerifier {
	return arcVerifier{&arc.Verifier{Lookup: lookup, Now: now}}
}

type arcVerifier struct{ v *arc.Verifier }

func (a arcVerifier) Start() ARCRun { return arcRun{a.v.NewVerification()} }

type arcRun struct{ w *arc.Verification }

func (r arcRun) Write(p []byte) (int, error) { return r.w.Write(p) }

func (r arcRun) Finish(ctx context.Context) ARCResult {
	res := r.w.Finish(ctx)
	out := ARCResult{Chain: ARCChain(res.Status)}
	if res.Status == arc.TempError || errors.Is(res.Err, arc.ErrTemporary) {
		out.Chain = ARCTempError
	}
	if res.Err != nil {
		out.Reason = strings.TrimPrefix(res.Err.Error(), "arc: ")
	}
	for _, s := range res.Sets {
		set := ARCSet{Instance: s.Instance, Sealer: s.Sealer}
		if m, ok := s.Result("dmarc"); ok {
			set.DMARC = m.Result
		}
		out.Sets = append(out.Sets, set)
	}
	return out
}

// trustedSet is the set whose ARC-Authentication-Results the verdict
// believes: the oldest of the unbroken run of trusted sealers ending with
// the newest set. ok is false when the newest sealer is not trusted.
// Trusting the newest sealer, as Gmail and Microsoft do, lets a trusted
// forwarder vouch for what it saw; only results written by a trusted
// sealer are read, whatever an untrusted one before it claimed.
func (c *Checker) trustedSet(a *ARCResult) (ARCSet, bool) {
	var set ARCSet
	ok := false
	for i := len(a.Sets) - 1; i >= 0; i-- {
		if !c.trusted[strings.ToLower(strings.TrimSuffix(a.Sets[i].Sealer, "."))] {
			break
		}
		set, ok = a.Sets[i], true
	}
	return set, ok
}

// arcOverride reports whether the ARC result overrides a DMARC failure
// (RFC 7489 §6.7 lets local policy override; RFC 8617 §7.2): the chain
// passes, the newest sealer is trusted, and the trusted set found
// dmarc=pass. temp is set when the chain could not be checked for now but
// would be read if it passed.
func (c *Checker) arcOverride(a *ARCResult) (ok, temp bool, why string) {
	if a == nil {
		return false, false, ""
	}
	set, trusted := c.trustedSet(a)
	if !trusted {
		return false, false, ""
	}
	switch a.Chain {
	case ARCTempError:
		return false, true, ""
	case ARCPass:
		if strings.EqualFold(set.DMARC, "pass") {
			return true, false, "arc=pass, i=" + strconv.Itoa(set.Instance) + " sealed by trusted " + set.Sealer + " saw dmarc=pass"
		}
	}
	return false, false, ""
}
