package mailauth

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/emersion/go-msgauth/dkim"
)

// The header parser must count DKIM-Signature fields as go-msgauth does:
// the verdict pairs its verifications with our tags by position.
func FuzzParseHeader(f *testing.F) {
	f.Add([]byte(rfc8463Message))
	f.Add([]byte(rfc6376Message))
	f.Add([]byte("DKIM-Signature\r\n\tv=1\r\nFrom: a@b.test, c@d.test\r\n\r\n"))
	f.Add([]byte(" leading: continuation\nDKIM-Signature: d=x; s=y\nFrom: \"@q.test\" <x@y.test>\n\nbody"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		end, _ := headerEnd(msg, 0)
		head := msg
		if end >= 0 {
			head = msg[:end]
		}
		fields := parseFields(head)
		sigs := dkimSignatures(fields)
		domains, _ := authorDomains(fields)
		for _, d := range domains {
			if d == "" || strings.ToLower(d) != d {
				t.Fatalf("author domain %q not canonical", d)
			}
		}
		if end < 0 {
			return // go-msgauth needs the end of the header section
		}
		noKey := errors.New("no key")
		verifs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
			LookupTXT: func(string) ([]string, error) { return nil, noKey },
		})
		if err != nil {
			return // a header go-msgauth cannot read: every signature is a permerror then
		}
		if len(verifs) != len(sigs) {
			t.Fatalf("%d signatures here, %d for go-msgauth", len(sigs), len(verifs))
		}
	})
}

func FuzzParsePolicy(f *testing.F) {
	f.Add("v=DMARC1; p=reject; sp=quarantine; np=none; pct=50; adkim=s; aspf=r; rua=mailto:a@b.test; t=y")
	f.Add("v=DMARC1; P=REJECT")
	f.Add("v=DMARC1; p=bogus; rua=mailto:x@y")
	f.Add("v=DMARC1;;p=none;pct=101")
	f.Fuzz(func(t *testing.T, txt string) {
		p := parsePolicy(txt)
		if p == nil {
			return
		}
		valid := map[string]bool{"none": true, "quarantine": true, "reject": true}
		if !valid[p.P] || p.SP != "" && !valid[p.SP] || p.NP != "" && !valid[p.NP] {
			t.Fatalf("policy %+v", p)
		}
		if p.Pct < 0 || p.Pct > 100 || p.ADKIM != "r" && p.ADKIM != "s" || p.ASPF != "r" && p.ASPF != "s" {
			t.Fatalf("policy %+v", p)
		}
	})
}
