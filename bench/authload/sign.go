package authload

import (
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/dkimsign"
	"github.com/surat-mail/surat/protocols/domains"
)

// What a signing measurement signs with: Surat's own signer
// (protocols/dkimsign) and keys made as `surat domain add` makes them
// (domains.NewKeys).
const (
	SignEd25519 = "ed25519"
	SignRSA     = "rsa2048"
	SignBoth    = "both" // Ed25519 and RSA-2048: what Surat puts on every message it signs (RFC 8463 §3)
)

// SignResult is what signing one message costs (Kind "sign" records).
type SignResult struct {
	Keys     string  `json:"keys"` // SignEd25519, SignRSA or SignBoth
	BodySize int     `json:"body_size"`
	MsgBytes int     `json:"msg_bytes"` // the message signed, headers included, signatures excluded
	N        int     `json:"n"`         // messages signed while timed
	NsPerOp  float64 `json:"ns_per_op"`
	AllocsOp int64   `json:"allocs_per_op"`
}

// BenchSign signs one message of bodySize body bytes (Message) b.N times
// with Surat's signer holding the keys named by which, as the submission
// port signs: the message streamed in, the DKIM-Signature fields out.
// It is BenchmarkSign of protocols/dkimsign, runnable outside `go test`.
func BenchSign(b *testing.B, which string, bodySize int) {
	s, err := surat(which)
	if err != nil {
		b.Fatal(err)
	}
	msg := Message(mrand.New(mrand.NewPCG(1, 2)), "sign", 1, Recipient, bodySize)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		m := s.Start()
		if _, err := m.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := m.Fields(); err != nil {
			b.Fatal(err)
		}
	}
}

// surat is a dkimsign.Signer for SenderDomain with fresh keys of which.
func surat(which string) (*dkimsign.Signer, error) {
	keys, err := domains.NewKeys(time.Now(), nil)
	if err != nil {
		return nil, err
	}
	var pick []*evlog.DkimKey
	for _, k := range keys {
		ed := k.GetAlgorithm() == evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519
		switch {
		case which == SignBoth, which == SignEd25519 && ed, which == SignRSA && !ed:
			pick = append(pick, k)
		}
	}
	if len(pick) == 0 {
		return nil, fmt.Errorf("authload: unknown signing keys %q (want %s, %s or %s)", which, SignEd25519, SignRSA, SignBoth)
	}
	return dkimsign.New(&evlog.DomainRecord{Domain: SenderDomain, DkimKeys: pick})
}

// MeasureSign runs BenchSign outside `go test` (testing.Benchmark, for
// about a second) and returns its result.
func MeasureSign(which string, bodySize int) (SignResult, error) {
	if _, err := surat(which); err != nil {
		return SignResult{}, err
	}
	// A benchmark that fails gives a zero result.
	r := testing.Benchmark(func(b *testing.B) { BenchSign(b, which, bodySize) })
	if r.N == 0 {
		return SignResult{}, fmt.Errorf("authload: signing with %s failed", which)
	}
	return SignResult{Keys: which, BodySize: bodySize, MsgBytes: int(r.Bytes), N: r.N,
		NsPerOp: float64(r.T) / float64(r.N), AllocsOp: r.AllocsPerOp()}, nil
}

// Ms is the cost per message in milliseconds.
func (s SignResult) Ms() float64 { return s.NsPerOp / float64(time.Millisecond) }
