package authload

import (
	"fmt"
	mrand "math/rand/v2"
	"testing"
	"time"
)

// SignResult is what signing one message costs (Kind "sign" records).
type SignResult struct {
	Key      string  `json:"key"`
	BodySize int     `json:"body_size"`
	MsgBytes int     `json:"msg_bytes"` // the message signed, headers included, signature excluded
	N        int     `json:"n"`         // signatures timed
	NsPerOp  float64 `json:"ns_per_op"`
	AllocsOp int64   `json:"allocs_per_op"`
}

// BenchSign signs one message of bodySize body bytes (Message) with a
// fresh key of algorithm b.N times: go-msgauth's dkim.Sign with the
// options every Corpus message is signed with (relaxed/relaxed, seven
// header fields, SHA-256), on one goroutine.
func BenchSign(b *testing.B, algorithm string, bodySize int) {
	k, err := NewKey(algorithm)
	if err != nil {
		b.Fatal(err)
	}
	msg := Message(mrand.New(mrand.NewPCG(1, 2)), "sign", 1, Recipient, bodySize)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := k.Sign(msg); err != nil {
			b.Fatal(err)
		}
	}
}

// MeasureSign runs BenchSign outside `go test` (testing.Benchmark, for
// about a second) and returns its result.
func MeasureSign(algorithm string, bodySize int) (SignResult, error) {
	if _, err := NewKey(algorithm); err != nil {
		return SignResult{}, err
	}
	// A benchmark that fails gives a zero result.
	r := testing.Benchmark(func(b *testing.B) { BenchSign(b, algorithm, bodySize) })
	if r.N == 0 {
		return SignResult{}, fmt.Errorf("authload: signing with %s failed", algorithm)
	}
	return SignResult{Key: algorithm, BodySize: bodySize, MsgBytes: int(r.Bytes), N: r.N,
		NsPerOp: float64(r.T) / float64(r.N), AllocsOp: r.AllocsPerOp()}, nil
}

// Ms is the cost per message in milliseconds.
func (s SignResult) Ms() float64 { return s.NsPerOp / float64(time.Millisecond) }
