package mailbox

import (
	"errors"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func TestBlobPrefix(t *testing.T) {
	f := newFixture(t)
	body := strings.Repeat("0123456789", evlog.ChunkSize/4)
	chunks := evlog.Chunks([]byte(body))
	hash := chunks[0].Hash
	f.ok(blobStored(chunks[0]), blobStored(chunks[2]))
	if _, _, err := f.s.BlobPrefix(hash, func([]byte) bool { return false }); !errors.Is(err, ErrNotFound) {
		t.Errorf("incomplete blob readable: %v", err)
	}
	f.ok(blobStored(chunks[1]))
	p, complete, err := f.s.BlobPrefix(hash, func(p []byte) bool { return len(p) > 0 })
	if err != nil || complete || string(p) != body[:evlog.ChunkSize] {
		t.Errorf("stopped after one chunk: %d bytes, complete %v, %v", len(p), complete, err)
	}
	p, complete, err = f.s.BlobPrefix(hash, func([]byte) bool { return false })
	if err != nil || !complete || string(p) != body {
		t.Errorf("whole: %d bytes, complete %v, %v", len(p), complete, err)
	}
	var got []string
	err = f.s.BlobPrefixes([][]byte{hash, []byte("missing"), f.hash}, func(p []byte) bool { return true },
		func(i int, p []byte, complete bool, err error) {
			switch {
			case i == 0 && (err != nil || complete || len(p) != evlog.ChunkSize),
				i == 1 && !errors.Is(err, ErrNotFound),
				i == 2 && (err != nil || !complete || len(p) != f.size):
				t.Errorf("BlobPrefixes %d: %d bytes, complete %v, %v", i, len(p), complete, err)
			}
			got = append(got, string(p))
		})
	if err != nil || len(got) != 3 {
		t.Errorf("BlobPrefixes: %d calls, %v", len(got), err)
	}
}
