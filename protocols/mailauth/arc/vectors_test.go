package arc

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

// rfc8463Message is the signed message of RFC 8463 Appendix A.3, with the
// keys of Appendix A.2: a published vector for the canonicalizations,
// header selection and both algorithms that ARC shares with DKIM. (RFC
// 8617 publishes no vector of its own.)
var rfc8463Message = strings.ReplaceAll(`DKIM-Signature: v=1; a=ed25519-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=brisbane; t=1528637909; h=from : to :
 subject : date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11Bus
 Fa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==
DKIM-Signature: v=1; a=rsa-sha256; c=relaxed/relaxed;
 d=football.example.com; i=@football.example.com;
 q=dns/txt; s=test; t=1528637909; h=from : to : subject :
 date : message-id : from : subject : date;
 bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;
 b=F45dVWDfMbQDGHJFlXUNB2HKfbCeLRyhDXgFpEL8GwpsRe0IeIixNTe3
 DhCVlUrSjV4BwcVcOF6+FF3Zo9Rpo1tFOeS9mPYQTnGdaSGsgeefOsk2Jz
 dA+L10TeYt9BgDfQNZtKdN1WO//KgIqXP7OdEFE4LjFYNcUxZQ4FADY+8=
From: Joe SixPack <joe@football.example.com>
To: Suzie Q <suzie@shopping.example.net>
Subject: Is dinner ready?
Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)
Message-ID: <20030712040037.46341.5F8J@football.example.com>

Hi.

We lost the game.  Are you hungry yet?

Joe.
`, "\n", "\r\n")

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
