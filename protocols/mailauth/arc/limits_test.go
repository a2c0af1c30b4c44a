package arc

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// TestFiftySets: 50 sets is the most a chain may have (RFC 8617 §4.2.1):
// 50 verify, a 51st is not sealed, and a set numbered 51 fails the chain.
func TestFiftySets(t *testing.T) {
	if testing.Short() {
		t.Skip("seals 50 times")
	}
	z := newZone()
	k := newKey(t, z, "ed25519", "relay.example", "s")
	msg := baseMessage
	for range maxInstance {
		msg = seal(t, z, k, msg)
	}
	res := verify(t, z, msg)
	if res.Status != Pass || res.Count != 50 {
		t.Fatalf("50 sets: status %s count %d: %v", res.Status, res.Count, res.Err)
	}
	_, err := Seal(context.Background(), strings.NewReader(msg), Sealer{
		Domain: k.domain, Selector: k.selector, Signer: k.signer, AuthResults: "relay.example; arc=pass", Lookup: z.lookup,
	})
	if !errors.Is(err, ErrTooManySets) {
		t.Fatalf("sealing a 51st set: %v, want ErrTooManySets", err)
	}

	// Renumber the newest set to 51: past the limit, whatever else holds.
	iRE := regexp.MustCompile(`i=50\b`)
	over := editHeader(t, msg, func(raw, name string, inst int) []string {
		if inst == 50 {
			raw = iRE.ReplaceAllString(raw, "i=51")
		}
		return []string{raw}
	})
	res = verify(t, z, over)
	if res.Status != Fail || !strings.Contains(res.Err.Error(), "at most 50") {
		t.Fatalf("instance 51: status %s err %v, want fail for the limit", res.Status, res.Err)
	}
}

// TestInstanceBeyondLimitAlone: one set numbered 51 fails on the limit,
// before any structure or signature is looked at.
func TestInstanceBeyondLimitAlone(t *testing.T) {
	msg := "ARC-Seal: i=51; a=rsa-sha256; cv=pass; d=x.example; s=s; b=AAAA\r\n" + baseMessage
	res := verify(t, newZone(), msg)
	if res.Status != Fail || !strings.Contains(res.Err.Error(), "at most 50") {
		t.Fatalf("status %s err %v", res.Status, res.Err)
	}
}

// TestHeaderTooLarge: a header over MaxHeaderBytes fails instead of
// growing memory; Seal refuses it.
func TestHeaderTooLarge(t *testing.T) {
	z, msg := threeHops(t)
	big := "X-Filler: " + strings.Repeat("x", 2000) + "\r\n"
	msg = strings.Repeat(big, 10) + msg
	v := &Verifier{Lookup: z.lookup, MaxHeaderBytes: 4096}
	res, err := v.Verify(context.Background(), strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != Fail || !strings.Contains(res.Err.Error(), "header longer than 4096") {
		t.Fatalf("status %s err %v", res.Status, res.Err)
	}
	if res := verify(t, z, msg); res.Status != Pass {
		t.Fatalf("with the default limit: %s %v", res.Status, res.Err)
	}
	k := newKey(t, z, "ed25519", "d.example", "s")
	_, err = Seal(context.Background(), strings.NewReader(msg), Sealer{
		Domain: k.domain, Selector: k.selector, Signer: k.signer, AuthResults: "d.example; arc=pass",
		Lookup: z.lookup, MaxHeaderBytes: 4096,
	})
	if err == nil || !strings.Contains(err.Error(), "header longer") {
		t.Fatalf("Seal: %v", err)
	}
}

// TestMessageShapes: messages without a body, or without an empty line,
// or with bare LF line endings, are read.
func TestMessageShapes(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "a.example", "s")
	cases := []struct{ name, msg string }{
		{"no body", "From: a@example.org\r\nSubject: x\r\n\r\n"},
		{"no empty line", "From: a@example.org\r\nSubject: x\r\n"},
		{"bare LF", "From: a@example.org\nSubject: x\n\nbody\nline\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := seal(t, z, k, tc.msg)
			if res := verify(t, z, msg); res.Status != Pass {
				t.Fatalf("status %s: %v", res.Status, res.Err)
			}
			// The same message written in CRLF verifies against the same
			// seal: bare LF was read as CRLF.
			if strings.Contains(tc.msg, "\n") && !strings.Contains(tc.msg, "\r") {
				crlfMsg := strings.ReplaceAll(msg, "\r\n", "\n")
				crlfMsg = strings.ReplaceAll(crlfMsg, "\n", "\r\n")
				if res := verify(t, z, crlfMsg); res.Status != Pass {
					t.Fatalf("CRLF form: status %s: %v", res.Status, res.Err)
				}
			}
		})
	}
	if res := verify(t, z, ""); res.Status != None {
		t.Fatalf("empty message: %s", res.Status)
	}
}
