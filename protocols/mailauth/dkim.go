package mailauth

import (
	"context"
	"errors"
	"io"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// DKIMResult is the outcome of one DKIM-Signature (RFC 6376 §6, result
// names of RFC 8601 §2.7.1).
type DKIMResult struct {
	Domain     string // d=, lower-case
	Selector   string // s=
	Algorithm  string // a=
	Identifier string // i= (the AUID)
	B          string // b= without white space, for header.b (RFC 6008)
	Result     string // pass, fail, temperror, permerror
	Reason     string
}

// verifyDKIM verifies every signature of the message read from r (up to
// MaxSignatures), looking keys up through our resolver with ctx. RSA and
// Ed25519 (RFC 8463) are go-msgauth's; rsa-sha1 is refused (RFC 8301 §3.1),
// as are RSA keys under 1024 bits (§3.2) and signatures with l= (the body
// length tag lets anything be appended).
func (c *Checker) verifyDKIM(ctx context.Context, r io.Reader) ([]*dkim.Verification, error) {
	return dkim.VerifyWithOptions(r, &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			return c.res.LookupTXT(ctx, name)
		},
		MaxVerifications: c.maxSigs,
	})
}

// dkimResults pairs go-msgauth's verifications with the signature tags read
// from the header section (both in header order).
func dkimResults(sigs []sigTags, verifs []*dkim.Verification, err error, maxSigs int) []DKIMResult {
	if len(sigs) > maxSigs {
		sigs = sigs[:maxSigs] // RFC 6376 §6.1: a verifier MAY limit the signatures it checks
	}
	out := make([]DKIMResult, len(sigs))
	for i, s := range sigs {
		out[i] = DKIMResult{Domain: s.domain, Selector: s.selector, Algorithm: s.algorithm,
			Identifier: s.identifier, B: s.b}
	}
	// Any error other than ErrTooManySignatures means the message could
	// not be read through; go-msgauth then clears the Err of the
	// verification it failed on, so none of them is believed.
	if err != nil && !errors.Is(err, dkim.ErrTooManySignatures) || len(verifs) != len(sigs) {
		reason := "message could not be verified"
		if err != nil {
			reason = err.Error()
		}
		for i := range out {
			out[i].Result, out[i].Reason = "permerror", reason
		}
		return out
	}
	for i, v := range verifs {
		r := &out[i]
		if r.Domain == "" {
			r.Domain = strings.ToLower(v.Domain)
		}
		switch {
		case v.Err == nil:
			r.Result = "pass"
		case dkim.IsTempFail(v.Err):
			r.Result = "temperror" // RFC 6376 §6.1.2: TEMPFAIL, key unavailable
		case dkim.IsPermFail(v.Err):
			r.Result = "permerror" // §6.1.1, §6.1.2: PERMFAIL before any hash is checked
		default:
			r.Result = "fail" // §6.1.3: body hash or signature did not verify
		}
		if v.Err != nil {
			r.Reason = strings.TrimPrefix(v.Err.Error(), "dkim: ")
		}
	}
	return out
}
