// Package log is Surat's event vocabulary: the event types (generated from
// events.proto), their versioned binary encoding, and small helpers for the
// values events carry (UID ranges, body chunks).
//
// Every change to mail state is an event; a proposal is a Batch of events
// that apply atomically. The encoding is protobuf behind a one-byte format
// version, so the schema can grow without old entries in a Raft log being
// reinterpreted. This package does no I/O.
package log

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"

	"google.golang.org/protobuf/proto"
)

// FormatV1 is the first byte of every encoded Batch and Outcome.
const FormatV1 byte = 1

// ChunkSize is the largest body chunk one BlobStored event carries, so that
// no Raft entry grows without bound (docs/DESIGN.md, invariant 4).
const ChunkSize = 256 << 10

// MaxStagedChunks bounds the chunks of one staged upload (ChunkStaged):
// a 1 GiB body, far above any message size limit Surat is run with, so
// that an upload's staged bytes are bounded whatever the proposer.
const MaxStagedChunks = (1 << 30) / ChunkSize

// ErrUnknownFormat is returned when bytes carry a format version this build
// does not know: a newer node wrote them.
var ErrUnknownFormat = errors.New("log: unknown encoding format")

var marshalOpts = proto.MarshalOptions{Deterministic: true}

// EncodeBatch encodes a proposal.
func EncodeBatch(b *Batch) ([]byte, error) {
	return encode(b)
}

// DecodeBatch decodes a proposal written by EncodeBatch.
func DecodeBatch(p []byte) (*Batch, error) {
	b := new(Batch)
	if err := decode(p, b); err != nil {
		return nil, fmt.Errorf("decode batch: %w", err)
	}
	return b, nil
}

// EncodeOutcome encodes the answer to one proposal.
func EncodeOutcome(o *Outcome) ([]byte, error) {
	return encode(o)
}

// DecodeOutcome decodes bytes written by EncodeOutcome.
func DecodeOutcome(p []byte) (*Outcome, error) {
	o := new(Outcome)
	if err := decode(p, o); err != nil {
		return nil, fmt.Errorf("decode outcome: %w", err)
	}
	return o, nil
}

// MarshalRecord encodes a stored record deterministically (no format byte:
// records live in the projections, which are rebuilt from the log).
func MarshalRecord(m proto.Message) ([]byte, error) {
	return marshalOpts.Marshal(m)
}

// UnmarshalRecord decodes a stored record.
func UnmarshalRecord(p []byte, m proto.Message) error {
	return proto.Unmarshal(p, m)
}

func encode(m proto.Message) ([]byte, error) {
	size := marshalOpts.Size(m)
	buf := make([]byte, 1, 1+size)
	buf[0] = FormatV1
	return marshalOpts.MarshalAppend(buf, m)
}

func decode(p []byte, m proto.Message) error {
	if len(p) == 0 {
		return errors.New("empty input")
	}
	if p[0] != FormatV1 {
		return fmt.Errorf("%w %d", ErrUnknownFormat, p[0])
	}
	return proto.Unmarshal(p[1:], m)
}

// Chunks splits a body into BlobStored events of at most ChunkSize bytes,
// all naming the body's SHA-256. An empty body is one empty chunk.
func Chunks(body []byte) []*BlobStored {
	sum := sha256.Sum256(body)
	n := (len(body) + ChunkSize - 1) / ChunkSize
	if n == 0 {
		n = 1
	}
	out := make([]*BlobStored, 0, n)
	for i := 0; i < n; i++ {
		lo := i * ChunkSize
		hi := min(lo+ChunkSize, len(body))
		out = append(out, &BlobStored{
			Hash:   sum[:],
			Size:   uint64(len(body)),
			Chunk:  uint32(i),
			Chunks: uint32(n),
			Data:   body[lo:hi],
		})
	}
	return out
}

// Name is the event's type name, for logs and metrics.
func (e *Event) Name() string {
	if e == nil || e.Kind == nil {
		return "none"
	}
	return string(e.ProtoReflect().WhichOneof(e.ProtoReflect().Descriptor().Oneofs().ByName("kind")).Name())
}

// MaxHead bounds BlobStored.head: the header fields a node adds on top of a
// streamed body when it ends (trace fields, verdicts, signatures).
const MaxHead = 64 << 10

// headedNameTag separates HeadedName's input from any body's bytes.
const headedNameTag = "surat headed body v1\x00"

// HeadedName is the name of a body assembled from an upload with a head
// (BlobStored.head): SHA-256 over a tag, the head's length and bytes, and
// restSum, the SHA-256 of the streamed rest. A node streaming a message
// into the log learns the header fields it adds only at the end, after the
// rest has been proposed and hashed, so the name cannot be the SHA-256 of
// the whole body; this one is as collision-resistant and is computed from
// what the proposer holds. Apply recomputes it from the stored bytes.
func HeadedName(head, restSum []byte) []byte {
	h := sha256.New()
	h.Write([]byte(headedNameTag))
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], uint64(len(head)))
	h.Write(n[:])
	h.Write(head)
	h.Write(restSum)
	return h.Sum(nil)
}

// HeadedLast is the BlobStored that ends a streamed body with a head: the
// body is head, then the staged chunks of uploadID (staged of them, each
// ChunkSize bytes; none and no uploadID for a body that fitted in one
// chunk), then last; restSum is the SHA-256 of the staged chunks and last.
func HeadedLast(head, restSum, uploadID []byte, staged uint32, last []byte) *BlobStored {
	size := uint64(len(head)) + uint64(staged)*ChunkSize + uint64(len(last))
	chunks := (size + ChunkSize - 1) / ChunkSize
	return &BlobStored{
		Hash: HeadedName(head, restSum), Size: size,
		Chunk: staged, Chunks: uint32(max(chunks, 1)),
		Data: last, Head: head, UploadId: uploadID, StagedChunks: staged,
	}
}

// HeadedCopy is the BlobStored of a second copy of a headed body, stored in
// the same entry with other header fields: the copy is head, then the body
// named copyOf from byte copySkip on (copyOf's own head, copySkip bytes,
// left out). restSum and restSize are the SHA-256 and length of that rest,
// the message as received, from which copyOf's own name was made.
func HeadedCopy(head, restSum []byte, restSize uint64, copyOf []byte, copySkip uint64) *BlobStored {
	size := uint64(len(head)) + restSize
	chunks := (size + ChunkSize - 1) / ChunkSize
	return &BlobStored{
		Hash: HeadedName(head, restSum), Size: size, Chunks: uint32(max(chunks, 1)),
		Head: head, CopyOf: copyOf, CopySkip: copySkip,
	}
}
