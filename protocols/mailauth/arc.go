package mailauth

import (
	"context"
	"io"
	"strings"
)

// ARCChain is the chain validation status of RFC 8617 §5.2 (cv=).
type ARCChain string

const (
	ARCNone ARCChain = "none"
	ARCPass ARCChain = "pass"
	ARCFail ARCChain = "fail"
)

// ARCResult is what the verdict needs from an ARC verification.
type ARCResult struct {
	Chain ARCChain
	// Sealers are the d= of the ARC-Seal fields, oldest (i=1) first.
	Sealers []string
	// OldestDMARC is the dmarc= result in the ARC-Authentication-Results
	// of instance 1 ("pass", "fail", ...; "" when absent).
	OldestDMARC string
	// Reason says why a chain failed, for logs and the A-R reason.
	Reason string
	// Temporary is set when the chain could not be checked for a
	// temporary DNS error (the chain is then reported as fail and never
	// overrides anything).
	Temporary bool
}

// ARCVerifier verifies the ARC chain of a message (RFC 8617 §5.2),
// implemented by protocols/mailauth/arc. Verify reads the whole message
// (header section and body) from r; it may stop early, and the caller
// drains or closes the rest. It returns an error only when it could not
// read the message; a broken chain is a result, not an error.
type ARCVerifier interface {
	Verify(ctx context.Context, r io.Reader) (ARCResult, error)
}

// arcOverride reports whether the ARC result overrides a DMARC failure
// (see the package doc: chain pass, every sealer trusted, oldest AAR
// dmarc=pass), and the comment to record.
func (c *Checker) arcOverride(a *ARCResult) (bool, string) {
	if a == nil || a.Chain != ARCPass || len(a.Sealers) == 0 {
		return false, ""
	}
	for _, s := range a.Sealers {
		if !c.trusted[strings.ToLower(strings.TrimSuffix(s, "."))] {
			return false, ""
		}
	}
	if !strings.EqualFold(a.OldestDMARC, "pass") {
		return false, ""
	}
	return true, "arc=pass sealed by trusted " + strings.Join(a.Sealers, ",")
}
