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

func TestEntryV2RoundTrip(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, KeyLen), bytes.Repeat([]byte{2}, KeyLen)
	in := []Proposal{{Key: k1, Data: []byte("one")}, {Key: k2, Data: nil}}
	got, err := decodeEntry(encodeEntry(12345, in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("got %d proposals", len(got))
	}
	for i := range in {
		if !bytes.Equal(got[i].Key, in[i].Key) || !bytes.Equal(got[i].Data, in[i].Data) || got[i].ProposedAt != 12345 {
			t.Fatalf("proposal %d = %+v, want %+v at 12345", i, got[i], in[i])
		}
	}
	// Entries written before keys are still read, without keys.
	old, err := decodeEntry(encodeItems([][]byte{[]byte("v1")}))
	if err != nil || len(old) != 1 || old[0].Key != nil || string(old[0].Data) != "v1" {
		t.Fatalf("version 1 entry: %+v, %v", old, err)
	}
}

func TestEntryV2RejectsMalformed(t *testing.T) {
	good := encodeEntry(7, []Proposal{{Key: bytes.Repeat([]byte{1}, KeyLen), Data: []byte("abc")}})
	cases := map[string][]byte{
		"truncated key":  good[:5],
		"truncated data": good[:len(good)-1],
		"trailing bytes": append(append([]byte{}, good...), 0),
		"huge count":     {entryV2, 7, 0xff, 0xff, 0xff, 0xff, 0x0f},
		"no index":       {entryV2},
	}
	for name, in := range cases {
		if _, err := decodeEntry(in); !errors.Is(err, errBadEntry) {
			t.Errorf("%s: err = %v, want errBadEntry", name, err)
		}
	}
}

func FuzzDecodeEntry(f *testing.F) {
	f.Add(encodeEntry(3, []Proposal{{Key: bytes.Repeat([]byte{9}, KeyLen), Data: []byte("seed")}}))
	f.Add(encodeItems([][]byte{[]byte("v1")}))
	f.Fuzz(func(t *testing.T, data []byte) {
		ps, err := decodeEntry(data)
		if err != nil || data[0] != entryV2 || len(ps) == 0 {
			return
		}
		again, err := decodeEntry(encodeEntry(ps[0].ProposedAt, ps))
		if err != nil || len(again) != len(ps) {
			t.Fatalf("re-encoding %d proposals failed: %v", len(ps), err)
		}
		for i := range ps {
			if !bytes.Equal(again[i].Key, ps[i].Key) || !bytes.Equal(again[i].Data, ps[i].Data) {
				t.Fatalf("proposal %d changed on re-encoding", i)
			}
		}
	})
}
