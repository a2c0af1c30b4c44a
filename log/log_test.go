package log

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"
)

func TestChunks(t *testing.T) {
	tests := []struct {
		size   int
		chunks int
	}{
		{0, 1},
		{1, 1},
		{ChunkSize - 1, 1},
		{ChunkSize, 1},
		{ChunkSize + 1, 2},
		{3 * ChunkSize, 3},
	}
	for _, tt := range tests {
		body := make([]byte, tt.size)
		rand.Read(body)
		sum := sha256.Sum256(body)
		got := Chunks(body)
		if len(got) != tt.chunks {
			t.Errorf("size %d: %d chunks, want %d", tt.size, len(got), tt.chunks)
			continue
		}
		var whole []byte
		for i, c := range got {
			if !bytes.Equal(c.GetHash(), sum[:]) {
				t.Errorf("size %d chunk %d: hash %x, want %x", tt.size, i, c.GetHash(), sum)
			}
			if c.GetSize() != uint64(tt.size) || c.GetChunk() != uint32(i) || c.GetChunks() != uint32(tt.chunks) {
				t.Errorf("size %d chunk %d: size=%d chunk=%d chunks=%d", tt.size, i, c.GetSize(), c.GetChunk(), c.GetChunks())
			}
			if len(c.GetData()) > ChunkSize {
				t.Errorf("size %d chunk %d: %d bytes, over ChunkSize", tt.size, i, len(c.GetData()))
			}
			whole = append(whole, c.GetData()...)
		}
		if !bytes.Equal(whole, body) {
			t.Errorf("size %d: reassembled %d bytes differ from the body", tt.size, len(whole))
		}
	}
}

func sampleBatch() *Batch {
	body := []byte("Subject: hi\r\n\r\nhello\r\n")
	blob := Chunks(body)[0]
	return &Batch{Events: []*Event{
		{Kind: &Event_DomainAdded{DomainAdded: &DomainAdded{Domain: "example.test"}}},
		{Kind: &Event_UserCreated{UserCreated: &UserCreated{Address: "a@example.test", PasswordHash: "$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA", CreatedUnix: 1700000000}}},
		{Kind: &Event_BlobStored{BlobStored: blob}},
		{Kind: &Event_Delivered{Delivered: &Delivered{
			Blob: blob.Hash, Size: blob.Size, InternalDateUnix: 1700000000, InternalDateOffset: -18000,
			Recipients: []*Recipient{{Address: "a@example.test"}, {Address: "b@example.test", Mailbox: "Junk"}},
			Flags:      []string{`\Seen`},
		}}},
		{Kind: &Event_FlagsChanged{FlagsChanged: &FlagsChanged{MailboxId: 3, Uids: RangesOf([]uint32{1, 2, 5}), Op: FlagOp_FLAG_OP_ADD, Flags: []string{"$Junk"}, UnchangedSince: 9}}},
	}}
}

func TestBatchRoundTrip(t *testing.T) {
	for _, b := range []*Batch{{}, sampleBatch()} {
		enc, err := EncodeBatch(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(enc) == 0 || enc[0] != FormatV1 {
			t.Fatalf("encoded batch starts with %x, want format byte %d", enc[:min(1, len(enc))], FormatV1)
		}
		again, err := EncodeBatch(b)
		if err != nil || !bytes.Equal(enc, again) {
			t.Errorf("encoding is not deterministic")
		}
		dec, err := DecodeBatch(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(dec, b) {
			t.Errorf("round trip: got %v, want %v", dec, b)
		}
	}
}

func TestOutcomeRoundTrip(t *testing.T) {
	outcomes := []*Outcome{
		{},
		{Error: ErrorCode_ERROR_CODE_USER_EXISTS, Message: "user exists"},
		{Results: []*EventResult{
			{MailboxId: 1, UidValidity: 1700000000, Uids: RangesOf([]uint32{4}), Modseq: 7},
			{Skipped: []string{"gone@example.test"}, SourceUids: RangesOf([]uint32{1, 2})},
		}},
	}
	for _, o := range outcomes {
		enc, err := EncodeOutcome(o)
		if err != nil {
			t.Fatal(err)
		}
		if enc[0] != FormatV1 {
			t.Fatalf("encoded outcome starts with %d, want %d", enc[0], FormatV1)
		}
		dec, err := DecodeOutcome(enc)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(dec, o) {
			t.Errorf("round trip: got %v, want %v", dec, o)
		}
	}
}

func TestDecodeErrors(t *testing.T) {
	valid, err := EncodeBatch(sampleBatch())
	if err != nil {
		t.Fatal(err)
	}
	future := bytes.Clone(valid)
	future[0] = FormatV1 + 1
	tests := []struct {
		name    string
		in      []byte
		unknown bool // want ErrUnknownFormat
	}{
		{"nil", nil, false},
		{"empty", []byte{}, false},
		{"format 0", []byte{0}, true},
		{"newer format", future, true},
		{"garbage after format byte", []byte{FormatV1, 0xff, 0xff, 0xff}, false},
	}
	decoders := map[string]func([]byte) error{
		"batch":   func(p []byte) error { _, err := DecodeBatch(p); return err },
		"outcome": func(p []byte) error { _, err := DecodeOutcome(p); return err },
	}
	for _, tt := range tests {
		for what, decode := range decoders {
			err := decode(tt.in)
			if err == nil {
				t.Errorf("%s %s: decoded without error", what, tt.name)
				continue
			}
			if got := errors.Is(err, ErrUnknownFormat); got != tt.unknown {
				t.Errorf("%s %s: errors.Is(%v, ErrUnknownFormat) = %v, want %v", what, tt.name, err, got, tt.unknown)
			}
		}
	}
}

func TestDecodeBatchTruncated(t *testing.T) {
	valid, err := EncodeBatch(sampleBatch())
	if err != nil {
		t.Fatal(err)
	}
	for _, cut := range []int{1, 3, len(valid) / 2} {
		if _, err := DecodeBatch(valid[:len(valid)-cut]); err == nil {
			t.Errorf("batch cut by %d bytes decoded without error", cut)
		}
	}
}

func TestEventName(t *testing.T) {
	tests := []struct {
		e    *Event
		want string
	}{
		{nil, "none"},
		{&Event{}, "none"},
		{&Event{Kind: &Event_DomainAdded{DomainAdded: &DomainAdded{}}}, "domain_added"},
		{&Event{Kind: &Event_UserCreated{UserCreated: &UserCreated{}}}, "user_created"},
		{&Event{Kind: &Event_BlobStored{BlobStored: &BlobStored{}}}, "blob_stored"},
		{&Event{Kind: &Event_Delivered{Delivered: &Delivered{}}}, "delivered"},
		{&Event{Kind: &Event_BlobsCollected{BlobsCollected: &BlobsCollected{}}}, "blobs_collected"},
	}
	for _, tt := range tests {
		if got := tt.e.Name(); got != tt.want {
			t.Errorf("Name() of %v = %q, want %q", tt.e, got, tt.want)
		}
	}
}
