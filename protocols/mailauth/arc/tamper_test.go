package arc

import (
	"context"
	"strings"
	"testing"
)

// TestTamper changes a sealed message the ways a forger or a careless
// relay would, and checks which changes the chain survives.
func TestTamper(t *testing.T) {
	cases := []struct {
		name   string
		change func(z *zone, msg string) string
		want   Status
		errHas string
	}{
		{"untouched", func(z *zone, m string) string { return m }, Pass, ""},
		{"body changed", func(z *zone, m string) string {
			return strings.Replace(m, "the numbers are", "the numbers were", 1)
		}, Fail, "i=3: body hash"},
		{"body appended", func(z *zone, m string) string { return m + "P.S. wire the money\r\n" }, Fail, "body hash"},
		{"trailing empty lines added", func(z *zone, m string) string { return m + "\r\n\r\n" }, Pass, ""},
		{"body whitespace changed (relaxed)", func(z *zone, m string) string {
			return strings.Replace(m, "the numbers are   in.  ", "the numbers are in.", 1)
		}, Pass, ""},
		{"signed field changed", func(z *zone, m string) string {
			return strings.Replace(m, "Subject: Quarterly numbers", "Subject: Urgent invoice", 1)
		}, Fail, "i=3: signature does not verify"},
		{"signed field refolded (relaxed)", func(z *zone, m string) string {
			return strings.Replace(m, "Subject: Quarterly numbers", "Subject:  Quarterly\r\n\tnumbers ", 1)
		}, Pass, ""},
		{"unsigned field added", func(z *zone, m string) string { return "Received: from relay.example\r\n" + m }, Pass, ""},
		{"old AAR changed", func(z *zone, m string) string {
			return editHeader(t, m, replaceIn(nameAAR, 1, "dmarc=pass", "dmarc=fail"))
		}, Fail, "ARC-Seal i=3"},
		{"old AMS changed", func(z *zone, m string) string {
			return editHeader(t, m, replaceIn(nameAMS, 1, "c=relaxed/relaxed", "c=relaxed/simple"))
		}, Fail, "ARC-Seal i=3"},
		{"seal signature changed", func(z *zone, m string) string {
			return editHeader(t, m, func(raw, name string, inst int) []string {
				if name == nameAS && inst == 2 {
					i := strings.Index(raw, "b=") + 2
					c := byte('A')
					if raw[i] == 'A' {
						c = 'B'
					}
					raw = raw[:i] + string(c) + raw[i+1:]
				}
				return []string{raw}
			})
		}, Fail, "ARC-Seal i=2"},
		{"sealer key replaced", func(z *zone, m string) string {
			newKey(t, z, "ed25519", "b.example", "s") // same name, new key
			return m
		}, Fail, "ARC-Seal i=2"},
		{"newest sealer key revoked", func(z *zone, m string) string {
			z.txt[keyName("s", "c.example")] = []string{"v=DKIM1; k=ed25519; p="}
			return m
		}, Fail, "revoked"},
		{"newest sealer key gone", func(z *zone, m string) string {
			delete(z.txt, keyName("s", "c.example"))
			return m
		}, Fail, "no key record"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			z, msg := threeHops(t)
			res := verify(t, z, tc.change(z, msg))
			if res.Status != tc.want {
				t.Fatalf("status %s (%v), want %s", res.Status, res.Err, tc.want)
			}
			if tc.errHas != "" && (res.Err == nil || !strings.Contains(res.Err.Error(), tc.errHas)) {
				t.Fatalf("err %v, want one containing %q", res.Err, tc.errHas)
			}
		})
	}
}

// TestOldestPass: a list that verifies the chain, then adds a footer and
// a Subject tag before sealing, leaves the chain passing with oldest-pass
// naming the first AMS that still verifies (RFC 8617 §5.2 step 5).
func TestOldestPass(t *testing.T) {
	z := newZone()
	msg := seal(t, z, newKey(t, z, "ed25519", "a.example", "s"), baseMessage)
	received := verify(t, z, msg)
	msg += "-- \r\nlist footer\r\n"
	msg = strings.Replace(msg, "Subject: Quarterly", "Subject: [list] Quarterly", 1)
	kb := newKey(t, z, "rsa", "b.example", "s")
	fields, err := Seal(context.Background(), strings.NewReader(msg), Sealer{
		Domain: kb.domain, Selector: kb.selector, Signer: kb.signer,
		AuthResults: "b.example; arc=pass", Chain: received,
	})
	if err != nil {
		t.Fatal(err)
	}
	msg = fields + msg
	msg = seal(t, z, newKey(t, z, "ed25519", "c.example", "s"), msg)
	res := verify(t, z, msg)
	if res.Status != Pass || res.OldestPass != 2 {
		t.Fatalf("status %s oldest-pass %d (%v), want pass 2", res.Status, res.OldestPass, res.Err)
	}
	// The first hop's results are still there to read.
	if r, ok := res.Sets[0].Result("dmarc"); !ok || r.Result != "pass" {
		t.Fatalf("first hop's dmarc: %+v %v", r, ok)
	}
}
