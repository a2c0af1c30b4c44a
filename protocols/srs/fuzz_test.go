package srs

import (
	"strings"
	"testing"
)

func FuzzReverse(f *testing.F) {
	now := day0
	r, err := New([][]byte{[]byte("k1"), []byte("k0")}, "fwd.example", clock(&now))
	if err != nil {
		f.Fatal(err)
	}
	fwd, _ := r.Forward("alice@example.org")
	srs1, _ := r.Forward(fwd + "x")
	for _, s := range []string{fwd, srs1, "SRS0=aaaa=AA=d=l@x", "SRS1=a=b==c@x", "SRS0+@", "srs1-=@=", "@", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		back, err := r.Reverse(addr)
		if err != nil {
			return
		}
		if !strings.Contains(back, "@") {
			t.Fatalf("Reverse(%q) = %q: no domain", addr, back)
		}
	})
}

// FuzzForward checks that every sender Forward rewrites comes back.
func FuzzForward(f *testing.F) {
	now := day0
	r, err := New([][]byte{[]byte("k")}, "fwd.example", clock(&now))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{"alice@example.org", "SRS0=abcd=AB=example.org=x@h.example", "SRS1=abcd=h.example==abcd=AB=d=l@g.example", "a=b@c.d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sender string) {
		fwd, err := r.Forward(sender)
		if err != nil || fwd == sender {
			return
		}
		back, err := r.Reverse(fwd)
		if err != nil {
			t.Fatalf("Reverse(Forward(%q) = %q): %v", sender, fwd, err)
		}
		local, _, _ := strings.Cut(fwd, "@")
		if kind(local) == 0 && !strings.EqualFold(back[:strings.LastIndexByte(back, '@')], sender[:strings.LastIndexByte(sender, '@')]) {
			t.Fatalf("Reverse(Forward(%q)) = %q", sender, back)
		}
	})
}
