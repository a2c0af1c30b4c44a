package arc

import (
	"context"
	"strings"
	"testing"
)

// FuzzParseTags: any input parses or errs, never panics, and the value
// spans stay within the input.
func FuzzParseTags(f *testing.F) {
	for _, s := range []string{"a=1; b=2", "v=DKIM1; k=ed25519; p=", "i=1; a=rsa-sha256; b=\r\n\tabc", ";", "a=1;;", "=", "a= ;b"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tags, err := parseTags(s)
		if err != nil {
			return
		}
		for _, tg := range tags {
			if tg.start < 0 || tg.end > len(s) || tg.start > tg.end {
				t.Fatalf("span %d..%d outside %d bytes", tg.start, tg.end, len(s))
			}
		}
		parseKeyRecord(s)
		parseSignature([]byte(s))
		parseAMS([]byte(s))
	})
}

// FuzzAuthResults: ARC-Authentication-Results values of any shape.
func FuzzAuthResults(f *testing.F) {
	for _, s := range []string{
		"i=1; mx.example.org; spf=pass smtp.mailfrom=a@example.org; dmarc=pass header.from=example.org",
		`i=2; mx (comment (nested)); dkim=fail reason="bad \"sig\"" header.d=x`,
		"i=1; mx; none", "i", "i=", "i=1", `i=1; "quoted; id"; a=b`, "i=1; x; a=(", `i=1; x; "=`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		_, payload, err := parseAAR(s)
		if err != nil {
			payload = s
		}
		_, results := parseAuthResults(payload)
		for _, r := range results {
			if r.Method == "" || r.Result == "" {
				t.Fatalf("empty method or result in %+v", r)
			}
		}
	})
}

// FuzzBodyCanon: writing a body in two pieces gives what writing it whole
// gives, for both algorithms.
func FuzzBodyCanon(f *testing.F) {
	f.Add("a \r\n\r\n b\t\r\n\r\n", 3)
	f.Add("\r\r\n\n \n", 1)
	f.Fuzz(func(t *testing.T, body string, cut int) {
		if cut < 0 || cut > len(body) {
			cut = len(body) / 2
		}
		for _, c := range []canon{canonSimple, canonRelaxed} {
			var whole, split strings.Builder
			w := newBodyCanon(&whole, c)
			w.Write([]byte(body))
			w.Close()
			s := newBodyCanon(&split, c)
			s.Write([]byte(body[:cut]))
			s.Write([]byte(body[cut:]))
			s.Close()
			if whole.String() != split.String() {
				t.Fatalf("%s: whole %q, split at %d %q", c, whole.String(), cut, split.String())
			}
			if out := whole.String(); out != "" && !strings.HasSuffix(out, "\r\n") {
				t.Fatalf("%s: %q does not end in CRLF", c, out)
			}
		}
	})
}

// FuzzVerify: any message gets a verdict and no panic; the seed corpus
// holds a sealed chain so that mutations reach the signature checks.
func FuzzVerify(f *testing.F) {
	z, msg := threeHops(f)
	f.Add(msg)
	f.Add(baseMessage)
	f.Add("ARC-Seal: i=1; cv=none\r\n\r\n")
	v := &Verifier{Lookup: z.lookup, MaxHeaderBytes: 64 << 10}
	f.Fuzz(func(t *testing.T, m string) {
		res, err := v.Verify(context.Background(), strings.NewReader(m))
		if err != nil {
			t.Fatal(err)
		}
		switch res.Status {
		case None, Pass, Fail, TempError:
		default:
			t.Fatalf("status %q", res.Status)
		}
		if (res.Status == Fail || res.Status == TempError) != (res.Err != nil) {
			t.Fatalf("status %s with err %v", res.Status, res.Err)
		}
	})
}
