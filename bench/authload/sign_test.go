package authload

import "testing"

// BenchmarkSign is DKIM signing of one message with a 4 KiB body
// (go-msgauth, the options of every corpus message).
//
//	go test -run '^$' -bench Sign ./bench/authload
func BenchmarkSign(b *testing.B) {
	for _, alg := range []string{KeyEd25519, KeyRSA} {
		b.Run(alg, func(b *testing.B) { BenchSign(b, alg, 4096) })
	}
}
