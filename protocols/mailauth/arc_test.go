package mailauth

import (
	"context"
	"strings"
	"testing"

	"github.com/surat-mail/surat/protocols/mailauth/arc"
)

// A mailing list breaks the author's DKIM signature and seals the message
// with ARC (protocols/mailauth/arc): with the list as a trusted sealer the
// DMARC p=reject failure is overridden; without, the message is refused.
func TestARCMailingList(t *testing.T) {
	srv, r := newDNS(t)
	srv.Add("_dmarc.d.test", "TXT", "v=DMARC1; p=reject")
	srv.Add("lists.test", "TXT", "v=spf1 ip4:203.0.113.5 -all")
	author := newEd25519(t, srv, "d.test", "k")
	list := newEd25519(t, srv, "lists.test", "arc")

	signed := author.sign(t, message("a@d.test"))
	// The list tags the subject and adds a footer: the signature breaks.
	changed := strings.Replace(signed, "Subject: test", "Subject: [list] test", 1) + "-- \r\nThe list footer.\r\n"
	seal, err := arc.Seal(context.Background(), strings.NewReader(changed), arc.Sealer{
		Domain: "lists.test", Selector: "arc", Signer: list.key,
		AuthResults: "lists.test; dkim=pass header.d=d.test; spf=pass smtp.mailfrom=d.test; dmarc=pass header.from=d.test",
		Lookup:      r.LookupTXT,
	})
	if err != nil {
		t.Fatalf("arc.Seal: %v", err)
	}
	sealed := seal + changed
	e := env("203.0.113.5", "", "bounce@lists.test")

	trusting := newChecker(t, r, func(c *Config) { c.TrustedARCSealers = []string{"lists.test"} })
	v := check(t, trusting, e, sealed)
	if v.Action != Accept || v.ARC == nil || v.ARC.Chain != ARCPass {
		t.Fatalf("trusted: %s %+v %+v %q", v.Action, v.ARC, v.DMARC, v.Header)
	}
	if resultOf(v.Header, "dkim") != "fail" || resultOf(v.Header, "dmarc") != "fail" || resultOf(v.Header, "arc") != "pass" ||
		!strings.Contains(v.Header, "override=arc") {
		t.Errorf("A-R %q", v.Header)
	}
	if o := v.Records[0].Overrides; len(o) != 1 || o[0].Type != "local_policy" || v.Records[0].Disposition != "none" {
		t.Errorf("record %+v", v.Records[0])
	}

	other := newChecker(t, r, func(c *Config) { c.TrustedARCSealers = []string{"elsewhere.test"} })
	v = check(t, other, e, sealed)
	if v.Action != Reject || v.Reply.Code != 550 {
		t.Fatalf("untrusted: %s %+v", v.Action, v.Reply)
	}

	// A change after sealing breaks the chain: no override.
	v = check(t, trusting, e, sealed+"appended\r\n")
	if v.Action != Reject || v.ARC.Chain != ARCFail {
		t.Fatalf("changed after sealing: %s %+v", v.Action, v.ARC)
	}
}
