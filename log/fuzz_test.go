package log

import (
	"testing"

	"google.golang.org/protobuf/proto"
)

// FuzzDecodeBatch: arbitrary bytes never panic the decoder, and whatever
// decodes re-encodes to bytes that decode to an equal Batch.
func FuzzDecodeBatch(f *testing.F) {
	for _, b := range []*Batch{{}, sampleBatch()} {
		enc, err := EncodeBatch(b)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(enc)
	}
	f.Add([]byte{})
	f.Add([]byte{FormatV1 + 1, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, p []byte) {
		b, err := DecodeBatch(p)
		if err != nil {
			return
		}
		enc, err := EncodeBatch(b)
		if err != nil {
			t.Fatalf("decoded batch does not re-encode: %v", err)
		}
		again, err := DecodeBatch(enc)
		if err != nil {
			t.Fatalf("re-encoded batch does not decode: %v", err)
		}
		if !proto.Equal(b, again) {
			t.Fatalf("round trip changed the batch:\n%v\n%v", b, again)
		}
	})
}
