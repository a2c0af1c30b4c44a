package arc

import (
	"crypto/sha256"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/mailheader"
)

// sealWithLength adds an i=1 set whose AMS carries l= (RFC 6376 §3.5),
// which Seal never writes, built from the same pieces Seal uses; extra
// tags go into the AMS too.
func sealWithLength(t *testing.T, k testKey, msg string, l int, extra string) string {
	t.Helper()
	head, body, _ := strings.Cut(msg, "\r\n\r\n")
	var canonical strings.Builder
	bc := newBodyCanon(&canonical, canonRelaxed)
	bc.Write([]byte(body))
	bc.Close()
	prefix := canonical.String()[:min(l, canonical.Len())]
	bh := sha256.Sum256([]byte(prefix))
	fields := splitHeader([]byte(head + "\r\n"))
	alg, err := signerAlgorithm(k.signer)
	if err != nil {
		t.Fatal(err)
	}
	ams, err := signField("ARC-Message-Signature", "i=1; a="+alg+"; c=relaxed/relaxed; d="+k.domain+"; s="+k.selector+
		"; l="+strconv.Itoa(l)+"; "+extra+"h=From:Subject; bh="+base64.StdEncoding.EncodeToString(bh[:])+"; b=",
		k.signer, alg, selectFields(fields, []string{"from", "subject"}))
	if err != nil {
		t.Fatal(err)
	}
	aar := mailheader.Fold("ARC-Authentication-Results", "i=1; "+k.domain+"; dmarc=pass")
	as, err := signField("ARC-Seal", "i=1; a="+alg+"; cv=none; d="+k.domain+"; s="+k.selector+"; b=",
		k.signer, alg, sealedFields(nil, headerField{raw: []byte(aar)}, headerField{raw: []byte(ams)}))
	if err != nil {
		t.Fatal(err)
	}
	return as + ams + aar + msg
}

// TestBodyLength: an AMS with l= covers that many bytes of the
// canonicalized body; more is not covered, a body shorter than l= fails.
func TestBodyLength(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "len.example", "s")
	var canonical strings.Builder
	bc := newBodyCanon(&canonical, canonRelaxed)
	bc.Write([]byte(baseMessage[strings.Index(baseMessage, "\r\n\r\n")+4:]))
	bc.Close()
	full := canonical.Len()
	cases := []struct {
		name   string
		l      int
		append string
		want   Status
	}{
		{"l= the whole body", full, "", Pass},
		{"l= a prefix", 5, "", Pass},
		{"l=0", 0, "", Pass},
		{"text after l= is not covered", full, "appended\r\n", Pass},
		{"l= past the body", full + 1, "", Fail},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			msg := sealWithLength(t, k, baseMessage, tc.l, "") + tc.append
			res := verify(t, z, msg)
			if res.Status != tc.want {
				t.Fatalf("status %s (%v), want %s", res.Status, res.Err, tc.want)
			}
		})
	}
	tampered := strings.Replace(sealWithLength(t, k, baseMessage, full, ""), "Hello,", "Hullo,", 1)
	if res := verify(t, z, tampered); res.Status != Fail {
		t.Fatalf("change inside l=: status %s", res.Status)
	}
}

// TestExpiry: an AMS whose x= has passed fails (RFC 6376 §3.5 x=).
func TestExpiry(t *testing.T) {
	z := newZone()
	k := newKey(t, z, "ed25519", "exp.example", "s")
	now := time.Now().Unix()
	for _, tc := range []struct {
		x    int64
		want Status
	}{{now - 60, Fail}, {now + 3600, Pass}} {
		msg := sealWithLength(t, k, baseMessage, 0, "x="+strconv.FormatInt(tc.x, 10)+"; ")
		if res := verify(t, z, msg); res.Status != tc.want {
			t.Errorf("x=%d (now %d): status %s (%v), want %s", tc.x, now, res.Status, res.Err, tc.want)
		}
	}
}
