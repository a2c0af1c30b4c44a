package arc

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
)

// editHeader rewrites msg's header: edit gets each field (raw, with CRLF)
// and its ARC instance (0 for other fields), and returns what replaces it.
func editHeader(t testing.TB, msg string, edit fieldEdit) string {
	t.Helper()
	head, body, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok {
		t.Fatal("no header end")
	}
	var out strings.Builder
	for _, f := range splitHeader([]byte(head + "\r\n")) {
		inst := 0
		switch f.name {
		case nameAAR:
			inst, _, _ = parseAAR(string(f.value()))
		case nameAMS, nameAS:
			if tags, err := parseTags(string(f.value())); err == nil {
				iv, _ := tags.get("i")
				inst, _ = parseInstance(iv)
			}
		}
		for _, r := range edit(string(f.raw), f.name, inst) {
			out.WriteString(r)
		}
	}
	return out.String() + "\r\n" + body
}

// fieldEdit rewrites one header field for editHeader.
type fieldEdit func(raw, name string, instance int) []string

// replaceIn replaces old by new in the field name of instance inst.
func replaceIn(name string, inst int, old, new string) fieldEdit {
	return func(raw, n string, i int) []string {
		if n == name && i == inst {
			raw = strings.Replace(raw, old, new, 1)
		}
		return []string{raw}
	}
}

// dropFields removes the fields name of instance inst ("" for all three).
func dropFields(name string, inst int) fieldEdit {
	return func(raw, n string, i int) []string {
		if i == inst && (name == "" || n == name) {
			return nil
		}
		return []string{raw}
	}
}

// doubleField repeats the field name of instance inst.
func doubleField(name string, inst int) fieldEdit {
	return func(raw, n string, i int) []string {
		if n == name && i == inst {
			return []string{raw, raw}
		}
		return []string{raw}
	}
}

func threeHops(t testing.TB) (*zone, string) {
	t.Helper()
	z := newZone()
	msg := baseMessage
	for _, d := range []string{"a.example", "b.example", "c.example"} {
		msg = seal(t, z, newKey(t, z, "ed25519", d, "s"), msg)
	}
	return z, msg
}

// TestChainStructure covers RFC 8617 §5.2 steps 1 to 3 and §4.2.1.
func TestChainStructure(t *testing.T) {
	z, msg := threeHops(t)
	if res := verify(t, z, msg); res.Status != Pass {
		t.Fatalf("untouched chain: %s %v", res.Status, res.Err)
	}
	iRE := regexp.MustCompile(`i=\d+`)
	cases := []struct {
		name string
		edit fieldEdit
		want string // in Result.Err
	}{
		{"missing instance", dropFields("", 2), "i=2 is missing"},
		{"duplicate AAR", doubleField(nameAAR, 2), "2 ARC-Authentication-Results"},
		{"duplicate seal", doubleField(nameAS, 1), "2 ARC-Seal"},
		{"missing AMS", dropFields(nameAMS, 3), "0 ARC-Message-Signature"},
		{"gap by renumbering", func(raw, name string, inst int) []string {
			if inst == 3 {
				return []string{iRE.ReplaceAllString(raw, "i=4")}
			}
			return []string{raw}
		}, "i=3 is missing"},
		{"first seal claims pass", replaceIn(nameAS, 1, "cv=none", "cv=pass"), "cv=pass; want cv=none"},
		{"later seal claims none", replaceIn(nameAS, 2, "cv=pass", "cv=none"), "cv=none; want cv=pass"},
		{"older seal claims fail", replaceIn(nameAS, 2, "cv=pass", "cv=fail"), "cv=fail; want cv=pass"},
		{"newest seal claims fail", replaceIn(nameAS, 3, "cv=pass", "cv=fail"), "i=3 has cv=fail"},
		{"seal with h=", replaceIn(nameAS, 3, "cv=pass;", "cv=pass; h=from;"), "h= tag"},
		{"instance not a number", replaceIn(nameAMS, 2, "i=2", "i=two"), "invalid instance"},
		{"instance zero", replaceIn(nameAAR, 1, "i=1", "i=0"), "invalid instance"},
		{"seal tag-list broken", replaceIn(nameAS, 1, "cv=none;", "cv=none;;"), "empty tag-spec"},
		{"seal selector not a name", replaceIn(nameAS, 3, "s=s;", "s=(s);"), "invalid s="},
		{"newest AMS domain not a name", replaceIn(nameAMS, 3, "d=c.example", "d=c..example"), "invalid d="},
		{"newest AMS signs ARC-Seal", replaceIn(nameAMS, 3, "h=From", "h=ARC-Seal:From"), "h= lists ARC-Seal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			edited := editHeader(t, msg, tc.edit)
			if edited == msg {
				t.Fatal("the edit changed nothing")
			}
			res := verify(t, z, edited)
			if res.Status != Fail {
				t.Fatalf("status %s, want fail", res.Status)
			}
			if res.Err == nil || !strings.Contains(res.Err.Error(), tc.want) {
				t.Fatalf("err %v, want one containing %q", res.Err, tc.want)
			}
		})
	}
}

// TestSealFailedChain: a sealer that finds the chain broken adds a set
// with cv=fail whose seal covers only that set (RFC 8617 §5.1.2); the
// chain then fails at step 2, and no further set is added (§5.1).
func TestSealFailedChain(t *testing.T) {
	z := newZone()
	msg := seal(t, z, newKey(t, z, "ed25519", "a.example", "s"), baseMessage)
	msg = seal(t, z, newKey(t, z, "rsa", "b.example", "s"), msg)
	broken := strings.Replace(msg, "the numbers are", "the numbers were", 1)
	kc := newKey(t, z, "ed25519", "c.example", "s")
	sealed := seal(t, z, kc, broken)
	if !strings.Contains(sealed[:200], "i=3; a=ed25519-sha256; cv=fail;") {
		t.Fatalf("new seal is not cv=fail:\n%s", sealed[:200])
	}
	res := verify(t, z, sealed)
	if res.Status != Fail || !strings.Contains(res.Err.Error(), "cv=fail") {
		t.Fatalf("status %s err %v, want fail for cv=fail", res.Status, res.Err)
	}
	// The cv=fail seal verifies over its own set alone.
	fields := splitHeader([]byte(sealed[:strings.Index(sealed, "\r\n\r\n")+2]))
	asF, amsF, aarF := fields[0], fields[1], fields[2]
	sig, err := parseSignature(asF.value())
	if err != nil {
		t.Fatal(err)
	}
	key, err := lookupKey(context.Background(), z.lookup, "s", "c.example")
	if err != nil {
		t.Fatal(err)
	}
	digest := hashSigned(sealedFields(nil, aarF, amsF), withoutB(asF, sig), canonRelaxed)
	if err := verifyDigest(key, sig.algorithm, digest, sig.sig); err != nil {
		t.Fatalf("cv=fail seal over its own set: %v", err)
	}
	// A chain marked failed is not extended.
	_, err = Seal(context.Background(), strings.NewReader(sealed), Sealer{
		Domain: "d.example", Selector: "s", Signer: kc.signer, AuthResults: "d.example; arc=fail", Lookup: z.lookup,
	})
	if !errors.Is(err, ErrChainFailed) {
		t.Fatalf("sealing after cv=fail: %v, want ErrChainFailed", err)
	}
}
