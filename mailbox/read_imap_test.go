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

func TestBodies(t *testing.T) {
	f := newFixture(t)
	body := strings.Repeat("0123456789", evlog.ChunkSize/4) // three chunks
	chunks := evlog.Chunks([]byte(body))
	hash := chunks[0].Hash
	f.ok(blobStored(chunks[0]), blobStored(chunks[2]))
	partial := chunks[0].Hash
	small, err := f.s.Blob(f.hash)
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, hashes [][]byte, want []string) {
		t.Helper()
		var got []string
		err := f.s.Bodies(hashes, func(i int, b []byte, err error) {
			switch {
			case want[i] == "" && !errors.Is(err, ErrNotFound):
				t.Errorf("%s: body %d: %d bytes, %v; want ErrNotFound", name, i, len(b), err)
			case want[i] != "" && (err != nil || string(b) != want[i]):
				t.Errorf("%s: body %d: %d bytes, %v; want %d bytes", name, i, len(b), err, len(want[i]))
			}
			got = append(got, string(b))
		})
		if err != nil || len(got) != len(hashes) {
			t.Errorf("%s: %d calls, %v", name, len(got), err)
		}
	}
	// An incomplete body, a missing one and a complete one, in one pass.
	check("incomplete", [][]byte{partial, []byte("missing"), f.hash}, []string{"", "", string(small)})
	f.ok(blobStored(chunks[1]))
	// Order is the caller's, not the keys'; a body may repeat.
	check("complete", [][]byte{f.hash, hash, f.hash}, []string{string(small), body, string(small)})
}
