package arc

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// defaultSignedHeaders are the fields an ARC-Message-Signature signs when
// Sealer.Headers is nil: RFC 6376 §5.4.1's recommended list, plus
// DKIM-Signature, so that a later hop can tell which signatures the
// sealer saw. Only fields present in the message are signed.
var defaultSignedHeaders = []string{
	"From", "Reply-To", "Subject", "Date", "To", "Cc",
	"Resent-Date", "Resent-From", "Resent-To", "Resent-Cc",
	"In-Reply-To", "References", "Message-ID",
	"List-Id", "List-Help", "List-Unsubscribe", "List-Subscribe", "List-Post", "List-Owner", "List-Archive",
	"MIME-Version", "Content-Type", "Content-Transfer-Encoding", "Content-ID", "Content-Description",
	"DKIM-Signature",
}

// Sealer says who seals a message and what its authentication found.
type Sealer struct {
	Domain   string // d= of the seal and the message signature
	Selector string // s=: the key is published at Selector._domainkey.Domain
	// Signer is an ed25519.PrivateKey or an *rsa.PrivateKey (at least
	// 1024 bits; 2048 advised).
	Signer crypto.Signer
	// AuthResults is the payload of the ARC-Authentication-Results field:
	// the authserv-id and the results, as in an Authentication-Results
	// field ("mx.example.org; spf=pass smtp.mailfrom=...; dkim=...;
	// dmarc=..."; RFC 8617 §4.1.1). It may be folded.
	AuthResults string
	// Headers are the field names the ARC-Message-Signature signs, every
	// occurrence present. If nil: the fields RFC 6376 §5.4.1 recommends
	// (From, Subject, Date, To, Cc, Message-ID, References, List-*, MIME
	// fields, ...) and DKIM-Signature. From is required.
	Headers []string

	// Chain is the verdict on the message's existing chain, when the
	// caller already has it (from Verify of the same message); if nil,
	// Seal verifies the chain itself with Lookup while it reads.
	Chain  *Result
	Lookup LookupTXT

	Now            func() time.Time // time.Now if nil (t=)
	MaxHeaderBytes int              // DefaultMaxHeaderBytes if 0
}

var (
	// ErrChainFailed: the newest ARC-Seal already says cv=fail, so no
	// set is added (RFC 8617 §5.1).
	ErrChainFailed = errors.New("arc: the newest ARC-Seal has cv=fail; the chain is not extended")
	// ErrTooManySets: the message already has 50 ARC sets (RFC 8617
	// §4.2.1).
	ErrTooManySets = errors.New("arc: the message already has the most ARC sets allowed (50)")
)

// Seal reads msg and returns the three header fields of its next ARC set
// (RFC 8617 §5.1): ARC-Seal, ARC-Message-Signature and
// ARC-Authentication-Results, in that order, each ending in CRLF, to be
// prepended to the message as they are. The seal's cv= is the verdict on
// the existing chain (s.Chain, or verified here); a chain that fails gets
// a cv=fail seal covering only the new set (RFC 8617 §5.1.2). A temporary
// failure to verify the chain is returned as an error wrapping
// ErrTemporary: seal later.
func Seal(ctx context.Context, msg io.Reader, s Sealer) (string, error) {
	alg, err := s.check()
	if err != nil {
		return "", err
	}
	v := &Verifier{Lookup: s.Lookup, Now: s.Now, MaxHeaderBytes: s.MaxHeaderBytes}
	w := v.NewVerification()
	w.wantRelaxed = true
	w.skipChain = s.Chain != nil
	if _, err := io.Copy(w, msg); err != nil {
		return "", fmt.Errorf("arc: reading message: %w", err)
	}
	verdict := s.Chain
	if verdict == nil {
		verdict = w.Finish(ctx)
	} else {
		w.finishBody()
	}
	if w.tooLarge {
		return "", fmt.Errorf("arc: header longer than %d bytes", w.maxHeader)
	}

	n, topFailed := highestInstance(w.fields)
	if topFailed {
		// RFC 8617 §5.1: a chain already marked failed is not extended.
		return "", ErrChainFailed
	}
	i := n + 1
	if i > maxInstance {
		return "", ErrTooManySets
	}
	var cv Status
	var earlier []*arcSet
	switch verdict.Status {
	case TempError:
		return "", fmt.Errorf("arc: verifying the existing chain: %w", verdict.Err)
	case Pass:
		cv = Pass
		if w.chain == nil || len(w.chain.sets) != n {
			return "", errors.New("arc: the chain verdict given does not match the message's ARC sets")
		}
		earlier = w.chain.sets
	case None:
		cv = None
		if n != 0 {
			return "", errors.New("arc: the chain verdict given does not match the message's ARC sets")
		}
	default:
		// RFC 8617 §5.1.2: the seal of a failed chain covers only its
		// own set.
		cv = Fail
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	t := strconv.FormatInt(now().Unix(), 10)
	inst := strconv.Itoa(i)

	// RFC 8617 §4.1.1: the AAR is the instance, then the results.
	aar := mailheader.Fold("ARC-Authentication-Results", "i="+inst+"; "+compactFWS(s.AuthResults))

	signed, err := s.signedNames(w.fields)
	if err != nil {
		return "", err
	}
	body, _ := w.hashers[canonRelaxed].sum(-1)
	bh := base64.StdEncoding.EncodeToString(body)
	// RFC 8617 §4.1.2: DKIM-Signature tags, i= the instance, no v=.
	// Sealing always uses relaxed/relaxed, which survives refolding.
	amsTags := "i=" + inst + "; a=" + alg + "; c=relaxed/relaxed; d=" + s.Domain + "; s=" + s.Selector +
		"; t=" + t + "; h=" + strings.Join(signed, ":") + "; bh=" + bh + "; b="
	amsField, err := signField("ARC-Message-Signature", amsTags, s.Signer, alg,
		selectFields(w.fields, lowerAll(signed)))
	if err != nil {
		return "", err
	}

	// RFC 8617 §4.1.3: the seal's tags; no h=, no bh=.
	asTags := "i=" + inst + "; a=" + alg + "; cv=" + string(cv) + "; d=" + s.Domain + "; s=" + s.Selector +
		"; t=" + t + "; b="
	// RFC 8617 §5.1.1: the seal covers every set in order, its own last.
	covered := sealedFields(earlier, headerField{raw: []byte(aar)}, headerField{raw: []byte(amsField)})
	asField, err := signField("ARC-Seal", asTags, s.Signer, alg, covered)
	if err != nil {
		return "", err
	}
	return asField + amsField + aar, nil
}

// check validates the sealer's settings and returns the algorithm.
func (s *Sealer) check() (string, error) {
	if s.Signer == nil {
		return "", errors.New("arc: Sealer.Signer is nil")
	}
	for _, v := range []struct{ name, value string }{{"Domain", s.Domain}, {"Selector", s.Selector}} {
		if v.value == "" || strings.ContainsAny(v.value, "; \t\r\n=") {
			return "", fmt.Errorf("arc: Sealer.%s %q is empty or not a name", v.name, v.value)
		}
	}
	if compactFWS(s.AuthResults) == "" {
		return "", errors.New("arc: Sealer.AuthResults is empty")
	}
	if s.Chain == nil && s.Lookup == nil {
		return "", errors.New("arc: Sealer needs Chain or Lookup to know the chain's status")
	}
	alg, err := signerAlgorithm(s.Signer)
	if err != nil {
		return "", fmt.Errorf("arc: %w", err)
	}
	return alg, nil
}

// signedNames lists h= for the AMS: each name once per field present.
func (s *Sealer) signedNames(fields []headerField) ([]string, error) {
	names := s.Headers
	if names == nil {
		names = defaultSignedHeaders
	}
	count := map[string]int{}
	for _, f := range fields {
		count[f.name]++
	}
	var signed []string
	seen := map[string]bool{}
	for _, name := range names {
		lower := strings.ToLower(trimFWS(name))
		if lower == "" || strings.ContainsAny(lower, ": \t\r\n;") {
			return nil, fmt.Errorf("arc: invalid field name %q in Sealer.Headers", name)
		}
		if lower == nameAS {
			// RFC 8617 §4.1.2: an AMS never signs ARC-Seal fields.
			return nil, errors.New("arc: Sealer.Headers lists ARC-Seal")
		}
		if seen[lower] {
			continue
		}
		seen[lower] = true
		for k := 0; k < count[lower]; k++ {
			signed = append(signed, name)
		}
	}
	if count["from"] == 0 || !seen["from"] {
		// RFC 6376 §5.4: From must be signed.
		return nil, errors.New("arc: the message has no From field to sign")
	}
	return signed, nil
}

// signField builds a folded "name: tags" field whose tags end with an
// empty "b=", signs the covered fields and the field itself (relaxed, RFC
// 6376 §3.7), and returns the field with the signature in b=, ending in
// CRLF. The signature goes after "b=" only, where a verifier removes it
// with the white space folding put in it, so the field it checks is the
// one signed here, octet for octet.
func signField(name, tags string, signer crypto.Signer, alg string, covered [][]byte) (string, error) {
	f := mailheader.NewField(name)
	f.Add(" " + tags)
	field := strings.TrimSuffix(f.String(), "\r\n")
	digest := hashSigned(covered, []byte(field), canonRelaxed)
	sig, err := signDigest(signer, alg, digest)
	if err != nil {
		return "", fmt.Errorf("arc: signing %s: %w", name, err)
	}
	f.Base64(base64.StdEncoding.EncodeToString(sig))
	return f.String(), nil
}

// highestInstance returns the highest instance among the ARC fields that
// parse, and whether an ARC-Seal of that instance says cv=fail.
func highestInstance(fields []headerField) (int, bool) {
	n := 0
	failed := false
	for _, f := range fields {
		var i int
		var cv string
		switch f.name {
		case nameAAR:
			var err error
			if i, _, err = parseAAR(string(f.value())); err != nil {
				continue
			}
		case nameAMS, nameAS:
			tags, err := parseTags(string(f.value()))
			if err != nil {
				continue
			}
			iv, _ := tags.get("i")
			if i, err = parseInstance(iv); err != nil {
				continue
			}
			if f.name == nameAS {
				cv, _ = tags.get("cv")
			}
		default:
			continue
		}
		if i > n {
			n, failed = i, false
		}
		if i == n && strings.EqualFold(cv, string(Fail)) {
			failed = true
		}
	}
	return n, failed
}

func lowerAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = strings.ToLower(n)
	}
	return out
}
