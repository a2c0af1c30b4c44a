package arc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"testing"
)

// rfc8463Message is the signed message of RFC 8463 Appendix A.3
// (../testdata/rfc8463.eml, shared with mailauth's DKIM tests), with the
// keys of Appendix A.2: a published vector for the canonicalizations,
// header selection and both algorithms that ARC shares with DKIM. (RFC
// 8617 publishes no vector of its own.)
var rfc8463Message = rfc8463()

var rfc8463Keys = map[string]string{
	"brisbane": "v=DKIM1; k=ed25519; p=11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=",
	"test": "v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoBTzWR" +
		"iGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W91y3FutAC" +
		"DfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9PzoxZyVYLzBfO2EeC3" +
		"Ip3G+2kryOTIKT+l/K4w3QIDAQAB",
}

// TestRFC8463Vector verifies both signatures of RFC 8463 Appendix A.3 with
// this package's tag parser, canonicalizations, field selection, key
// records and signature checks, and checks that a changed byte fails.
func TestRFC8463Vector(t *testing.T) {
	check := func(msg string) []error {
		head, body, _ := strings.Cut(msg, "\r\n\r\n")
		fields := splitHeader([]byte(head + "\r\n"))
		var errs []error
		for _, f := range fields {
			if f.name != "dkim-signature" {
				continue
			}
			errs = append(errs, verifyDKIMField(t, fields, f, body))
		}
		return errs
	}
	for i, err := range check(rfc8463Message) {
		if err != nil {
			t.Errorf("signature %d of the published vector: %v", i+1, err)
		}
	}
	for _, tamper := range []struct{ old, new string }{
		{"hungry yet?", "hungry now?"},
		{"Subject: Is dinner ready?", "Subject: Is lunch ready?"},
	} {
		for i, err := range check(strings.Replace(rfc8463Message, tamper.old, tamper.new, 1)) {
			if err == nil {
				t.Errorf("signature %d verifies after %q became %q", i+1, tamper.old, tamper.new)
			}
		}
	}
}

// verifyDKIMField checks one DKIM-Signature field against the message,
// as verifyAMS does for an ARC-Message-Signature.
func verifyDKIMField(t *testing.T, fields []headerField, f headerField, body string) error {
	t.Helper()
	tags, err := parseTags(string(f.value()))
	if err != nil {
		return err
	}
	get := func(name string) string { v, _ := tags.get(name); return v }
	hc, bc, ok := parseCanon(get("c"), true)
	if !ok {
		return errors.New("bad c=")
	}
	var canonical bytes.Buffer
	w := newBodyCanon(&canonical, bc)
	w.Write([]byte(body))
	w.Close()
	bh := sha256.Sum256(canonical.Bytes())
	if base64.StdEncoding.EncodeToString(bh[:]) != stripFWS(get("bh")) {
		return errors.New("body hash differs")
	}
	key, err := parseKeyRecord(rfc8463Keys[get("s")])
	if err != nil {
		return err
	}
	b, _ := tags.find("b")
	sig, err := base64.StdEncoding.DecodeString(stripFWS(b.value))
	if err != nil {
		return err
	}
	digest := hashSigned(selectFields(fields, lowerAll(splitColon(get("h")))),
		withoutB(f, &signature{bStart: b.start, bEnd: b.end}), hc)
	return verifyDigest(key, get("a"), digest, sig)
}

// rfc8463 reads the vector with CRLF line endings.
func rfc8463() string {
	b, err := os.ReadFile("../testdata/rfc8463.eml")
	if err != nil {
		panic(err)
	}
	return strings.ReplaceAll(string(b), "\n", "\r\n")
}
