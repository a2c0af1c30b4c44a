package cluster

import (
	"bytes"
	"errors"
	"testing"
)

func TestEntryRoundTrip(t *testing.T) {
	cases := [][][]byte{
		{},
		{{}},
		{[]byte("one")},
		{[]byte("a"), {}, bytes.Repeat([]byte("x"), 300)},
	}
	for _, items := range cases {
		got, err := decodeItems(encodeItems(items))
		if err != nil {
			t.Fatalf("decode %q: %v", items, err)
		}
		if len(got) != len(items) {
			t.Fatalf("got %d items, want %d", len(got), len(items))
		}
		for i := range items {
			if !bytes.Equal(got[i], items[i]) {
				t.Fatalf("item %d = %q, want %q", i, got[i], items[i])
			}
		}
	}
}

func TestEntryRejectsMalformed(t *testing.T) {
	good := encodeItems([][]byte{[]byte("abc"), []byte("de")})
	cases := map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{9}, good[1:]...),
		"truncated":       good[:len(good)-1],
		"trailing bytes":  append(append([]byte{}, good...), 0),
		"huge count":      {entryV1, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"huge item":       {entryV1, 1, 0xff, 0xff, 0xff, 0xff, 0x0f},
	}
	for name, in := range cases {
		if _, err := decodeItems(in); !errors.Is(err, errBadEntry) {
			t.Errorf("%s: err = %v, want errBadEntry", name, err)
		}
	}
}

func FuzzDecodeItems(f *testing.F) {
	f.Add(encodeItems([][]byte{[]byte("seed"), {}}))
	f.Add([]byte{entryV1, 2, 1, 'a'})
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := decodeItems(data)
		if err != nil {
			return
		}
		again, err := decodeItems(encodeItems(items))
		if err != nil || len(again) != len(items) {
			t.Fatalf("re-encoding %d items failed: %v", len(items), err)
		}
	})
}
