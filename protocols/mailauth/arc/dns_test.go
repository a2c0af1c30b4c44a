package arc

import (
	"context"
	"errors"
	"strings"
	"testing"
)

// TestTemporaryDNS: a key look-up that fails temporarily gives TempError,
// recognisable with errors.Is, and never Fail (RFC 6376 §6.1.2).
func TestTemporaryDNS(t *testing.T) {
	cases := []struct {
		name  string
		setup func(z *zone) context.Context
	}{
		{"newest sealer SERVFAIL", func(z *zone) context.Context {
			z.temp[keyName("s", "c.example")] = true
			return context.Background()
		}},
		{"oldest sealer SERVFAIL", func(z *zone) context.Context {
			z.temp[keyName("s", "a.example")] = true
			return context.Background()
		}},
		{"context cancelled", func(z *zone) context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z, msg := threeHops(t)
			ctx := tc.setup(z)
			res, err := (&Verifier{Lookup: z.lookup}).Verify(ctx, strings.NewReader(msg))
			if err != nil {
				t.Fatal(err)
			}
			if res.Status != TempError || !errors.Is(res.Err, ErrTemporary) {
				t.Fatalf("status %s err %v, want temperror wrapping ErrTemporary", res.Status, res.Err)
			}
			if len(res.Sets) != 3 {
				t.Errorf("%d sets reported, want 3 (the structure was valid)", len(res.Sets))
			}
			if _, ok := res.Trusted([]string{"a.example", "b.example", "c.example"}); ok {
				t.Error("a chain that could not be verified gave a trusted set")
			}
		})
	}
}

// TestTemporaryDNSSeal: a sealer that cannot verify the chain it extends
// returns an error wrapping ErrTemporary instead of sealing cv=fail.
func TestTemporaryDNSSeal(t *testing.T) {
	z, msg := threeHops(t)
	z.temp[keyName("s", "b.example")] = true
	k := newKey(t, z, "ed25519", "d.example", "s")
	_, err := Seal(context.Background(), strings.NewReader(msg), Sealer{
		Domain: k.domain, Selector: k.selector, Signer: k.signer, AuthResults: "d.example; arc=pass", Lookup: z.lookup,
	})
	if !errors.Is(err, ErrTemporary) {
		t.Fatalf("err %v, want ErrTemporary", err)
	}
}

// TestKeyLookupsCached: a chain sealed three times by one domain costs
// one DNS query.
func TestKeyLookupsCached(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "list.example", "s")
	msg := baseMessage
	for range 3 {
		msg = seal(t, z, k, msg)
	}
	z.queries = nil
	if res := verify(t, z, msg); res.Status != Pass {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	if len(z.queries) != 1 {
		t.Fatalf("queries %v, want one", z.queries)
	}
}

// TestNoResolver: a Verifier without Lookup cannot decide; that is a
// temporary condition, not a forged chain.
func TestNoResolver(t *testing.T) {
	_, msg := threeHops(t)
	res, err := (&Verifier{}).Verify(context.Background(), strings.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != TempError {
		t.Fatalf("status %s (%v), want temperror", res.Status, res.Err)
	}
}
