package arc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// TestSealVerifyRoundTrip seals a message over 1, 2 and 3 hops with each
// key type, and with the key types mixed, and verifies every stage.
func TestSealVerifyRoundTrip(t *testing.T) {
	cases := []struct {
		name  string
		kinds []string
	}{
		{"ed25519 1 hop", []string{"ed25519"}},
		{"ed25519 2 hops", []string{"ed25519", "ed25519"}},
		{"ed25519 3 hops", []string{"ed25519", "ed25519", "ed25519"}},
		{"rsa 1 hop", []string{"rsa"}},
		{"rsa 2 hops", []string{"rsa", "rsa"}},
		{"rsa 3 hops", []string{"rsa", "rsa", "rsa"}},
		{"mixed 3 hops", []string{"rsa", "ed25519", "rsa"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z := newZone()
			if res := verify(t, z, baseMessage); res.Status != None || res.Count != 0 {
				t.Fatalf("unsealed message: status %s count %d (%v), want none 0", res.Status, res.Count, res.Err)
			}
			msg := baseMessage
			var sealers []string
			for hop, kind := range tc.kinds {
				domain := fmt.Sprintf("hop%d.example.net", hop+1)
				k := newKey(t, z, kind, domain, "sel"+kind)
				msg = seal(t, z, k, msg)
				sealers = append(sealers, domain)

				res := verify(t, z, msg)
				if res.Status != Pass {
					t.Fatalf("after hop %d: status %s (%v), want pass\n%s", hop+1, res.Status, res.Err, msg)
				}
				if res.Count != hop+1 || len(res.Sets) != hop+1 {
					t.Fatalf("after hop %d: count %d, %d sets", hop+1, res.Count, len(res.Sets))
				}
				if res.OldestPass != 0 {
					t.Errorf("after hop %d: oldest-pass %d, want 0 (nothing modified)", hop+1, res.OldestPass)
				}
				for i, s := range res.Sets {
					if s.Instance != i+1 || s.Sealer != sealers[i] || s.AMSDomain != sealers[i] {
						t.Errorf("set %d: instance %d sealer %q ams d= %q, want %d %q", i, s.Instance, s.Sealer, s.AMSDomain, i+1, sealers[i])
					}
					wantCV := Pass
					if i == 0 {
						wantCV = None
					}
					if s.CV != wantCV {
						t.Errorf("set %d: cv=%s, want %s", i+1, s.CV, wantCV)
					}
					if s.AuthServID != sealers[i] {
						t.Errorf("set %d: authserv-id %q, want %q", i+1, s.AuthServID, sealers[i])
					}
					if r, ok := s.Result("dmarc"); !ok || r.Result != "pass" || r.Props["header.from"] != "example.org" {
						t.Errorf("set %d: dmarc result %+v %v", i+1, r, ok)
					}
				}
			}
			// Each stage prepended exactly three fields, newest first.
			if got := strings.Count(msg, "\r\nARC-Seal: ") + boolInt(strings.HasPrefix(msg, "ARC-Seal: ")); got != len(tc.kinds) {
				t.Errorf("%d ARC-Seal fields, want %d", got, len(tc.kinds))
			}
			if !strings.HasPrefix(msg, fmt.Sprintf("ARC-Seal: i=%d;", len(tc.kinds))) {
				t.Errorf("message does not start with the newest seal:\n%s", msg[:80])
			}
		})
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// TestSealFieldsShape checks the fields a seal adds: the order, the tags
// RFC 8617 §4.1 requires, line lengths, and the cv= of each instance.
func TestSealFieldsShape(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "lists.example.net", "s1")
	fields, err := Seal(context.Background(), strings.NewReader(baseMessage), Sealer{
		Domain: k.domain, Selector: k.selector, Signer: k.signer,
		AuthResults: "lists.example.net; spf=pass smtp.mailfrom=example.org",
		Lookup:      z.lookup, Now: fixedNow,
	})
	if err != nil {
		t.Fatal(err)
	}
	parsed := splitHeader([]byte(fields))
	if len(parsed) != 3 || parsed[0].name != nameAS || parsed[1].name != nameAMS || parsed[2].name != nameAAR {
		t.Fatalf("fields %q", fields)
	}
	for _, line := range strings.Split(strings.TrimSuffix(fields, "\r\n"), "\r\n") {
		// RFC 5322 §2.1.1: 78 where a fold allows; every word here fits.
		if len(line) > mailheader.SoftLimit {
			t.Errorf("line of %d bytes: %q", len(line), line)
		}
	}
	as, err := parseSignature(parsed[0].value())
	if err != nil {
		t.Fatal(err)
	}
	for tag, want := range map[string]string{"i": "1", "cv": "none", "a": "ed25519-sha256", "d": "lists.example.net", "s": "s1", "t": "1796198400"} {
		if got, _ := as.tags.get(tag); got != want {
			t.Errorf("ARC-Seal %s=%q, want %q", tag, got, want)
		}
	}
	if _, ok := as.tags.get("h"); ok {
		t.Error("ARC-Seal has h=")
	}
	ams, err := parseAMS(parsed[1].value())
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(ams.signed, ":"); got != "from:subject:date:to:message-id:mime-version:content-type" {
		t.Errorf("AMS h=%s", got)
	}
	if _, ok := ams.tags.get("v"); ok {
		t.Error("AMS has v= (RFC 8617 §4.1.2 defines none)")
	}
	i, payload, err := parseAAR(string(parsed[2].value()))
	if err != nil || i != 1 || payload != "lists.example.net; spf=pass smtp.mailfrom=example.org" {
		t.Errorf("AAR i=%d payload %q err %v", i, payload, err)
	}
}

// TestSealErrors covers the sealer's refusals.
func TestSealErrors(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "lists.example.net", "s1")
	good := Sealer{Domain: k.domain, Selector: k.selector, Signer: k.signer, AuthResults: "x; none", Lookup: z.lookup}
	cases := []struct {
		name   string
		msg    string
		mutate func(*Sealer)
		want   string
	}{
		{"no signer", baseMessage, func(s *Sealer) { s.Signer = nil }, "Signer is nil"},
		{"bad domain", baseMessage, func(s *Sealer) { s.Domain = "a; b" }, "not a name"},
		{"empty auth results", baseMessage, func(s *Sealer) { s.AuthResults = " \r\n " }, "AuthResults is empty"},
		{"no lookup no chain", baseMessage, func(s *Sealer) { s.Lookup = nil }, "needs Chain or Lookup"},
		{"no From", "To: x@example.org\r\n\r\nhi\r\n", nil, "no From"},
		{"signs ARC-Seal", baseMessage, func(s *Sealer) { s.Headers = []string{"From", "ARC-Seal"} }, "lists ARC-Seal"},
		{"From not listed", baseMessage, func(s *Sealer) { s.Headers = []string{"Subject"} }, "no From"},
		{"chain verdict mismatch", baseMessage, func(s *Sealer) { s.Chain = &Result{Status: Pass} }, "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := good
			if tc.mutate != nil {
				tc.mutate(&s)
			}
			_, err := Seal(context.Background(), strings.NewReader(tc.msg), s)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// TestSealGivenChain seals with a verdict the caller already has, and the
// result verifies as if Seal had verified the chain itself.
func TestSealGivenChain(t *testing.T) {
	z := newZone()
	k1 := newKey(t, z, "ed25519", "one.example.net", "s")
	k2 := newKey(t, z, "rsa", "two.example.net", "s")
	msg := seal(t, z, k1, baseMessage)
	res := verify(t, z, msg)
	noDNS := func(context.Context, string) ([]string, error) { return nil, errors.New("no DNS expected") }
	fields, err := Seal(context.Background(), strings.NewReader(msg), Sealer{
		Domain: k2.domain, Selector: k2.selector, Signer: k2.signer, AuthResults: "two.example.net; arc=pass",
		Chain: res, Lookup: noDNS,
	})
	if err != nil {
		t.Fatal(err)
	}
	if res := verify(t, z, fields+msg); res.Status != Pass || res.Count != 2 {
		t.Fatalf("status %s count %d: %v", res.Status, res.Count, res.Err)
	}
}

// TestTrusted picks the oldest set of the run of trusted sealers at the
// newest end of the chain.
func TestTrusted(t *testing.T) {
	z := newZone()
	msg := baseMessage
	for _, d := range []string{"origin.example", "list.example", "fwd.example"} {
		msg = seal(t, z, newKey(t, z, "ed25519", d, "s"), msg)
	}
	res := verify(t, z, msg)
	if res.Status != Pass {
		t.Fatalf("status %s: %v", res.Status, res.Err)
	}
	cases := []struct {
		trusted []string
		want    int // instance, 0 for none
	}{
		{nil, 0},
		{[]string{"origin.example", "list.example"}, 0}, // newest hop untrusted
		{[]string{"FWD.example."}, 3},
		{[]string{"fwd.example", "list.example"}, 2},
		{[]string{"fwd.example", "origin.example"}, 3}, // list.example breaks the run
		{[]string{"fwd.example", "list.example", "origin.example"}, 1},
	}
	for _, tc := range cases {
		set, ok := res.Trusted(tc.trusted)
		got := 0
		if ok {
			got = set.Instance
		}
		if got != tc.want {
			t.Errorf("Trusted(%v) = instance %d, want %d", tc.trusted, got, tc.want)
		}
	}
	failed := &Result{Status: Fail, Sets: res.Sets}
	if _, ok := failed.Trusted([]string{"fwd.example"}); ok {
		t.Error("a failed chain gave a trusted set")
	}
}
