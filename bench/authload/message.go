package authload

import (
	"bytes"
	"crypto"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/surat-mail/surat/bench/smtpload"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/domains"
)

// The sending domain and what it publishes: every node is given these
// records through the in-process DNS server, so SPF (the senders connect
// from 127.0.1.x, and EHLO as the domain), DKIM and DMARC all pass.
const (
	SenderDomain = "sender.test"
	Sender       = "news@" + SenderDomain // MAIL FROM and From
	Selector     = "sel"
	SPFRecord    = "v=spf1 ip4:127.0.0.0/8 -all"
	DMARCRecord  = "v=DMARC1; p=reject"
)

// Key algorithms a run can sign with.
const (
	KeyEd25519 = "ed25519" // RFC 8463
	KeyRSA     = "rsa"     // RSA-2048, RFC 6376 §3.3.1
)

// Key is the sending domain's DKIM key, made as Surat makes its own
// domains' keys (domains.NewKeys) but published at Selector.
type Key struct {
	Algorithm string // KeyEd25519 or KeyRSA
	key       *evlog.DkimKey
	signer    crypto.Signer
}

// NewKey makes a fresh key of algorithm KeyEd25519 or KeyRSA (2048 bits).
func NewKey(algorithm string) (*Key, error) {
	want := map[string]evlog.DkimAlgorithm{
		KeyEd25519: evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519,
		KeyRSA:     evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA,
	}
	alg, ok := want[algorithm]
	if !ok {
		return nil, fmt.Errorf("authload: unknown key algorithm %q (want %s or %s)", algorithm, KeyEd25519, KeyRSA)
	}
	keys, err := domains.NewKeys(time.Now(), nil)
	if err != nil {
		return nil, fmt.Errorf("authload: %w", err)
	}
	for _, k := range keys {
		if k.GetAlgorithm() != alg {
			continue
		}
		k.Selector = Selector
		signer, err := domains.Signer(k)
		if err != nil {
			return nil, fmt.Errorf("authload: %w", err)
		}
		return &Key{Algorithm: algorithm, key: k, signer: signer}, nil
	}
	return nil, fmt.Errorf("authload: no %s key among the domain keys made", algorithm)
}

// Record is the key's DKIM TXT record (RFC 6376 §3.6.1, RFC 8463 §4.2),
// as `surat domain records` prints it.
func (k *Key) Record() (string, error) { return domains.KeyRecord(k.key) }

// signedFields are the header fields a signature covers (RFC 6376
// §5.4.1's recommendation, those a message here carries).
var signedFields = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}

// Sign prepends a DKIM-Signature (d=sender.test, s=sel, relaxed/relaxed)
// made with k to msg, with go-msgauth's signer, as another domain's mail
// system would.
func (k *Key) Sign(msg []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(msg) + 512)
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:                 SenderDomain,
		Selector:               Selector,
		Signer:                 k.signer,
		Hash:                   crypto.SHA256,
		HeaderCanonicalization: dkim.CanonicalizationRelaxed,
		BodyCanonicalization:   dkim.CanonicalizationRelaxed,
		HeaderKeys:             signedFields,
	})
	if err != nil {
		return nil, fmt.Errorf("authload: dkim sign: %w", err)
	}
	return out.Bytes(), nil
}

// Message is message n of a round tagged tag, from Sender to rcpt, with a
// body of bodySize random bytes (smtpload.AppendBody), not yet signed.
// The Subject carries the tag, so a stored message can be traced to its
// round.
func Message(rng *mrand.Rand, tag string, n int, rcpt string, bodySize int) []byte {
	now := time.Now()
	b := make([]byte, 0, bodySize+512)
	b = fmt.Appendf(b, "From: News <%s>\r\nTo: <%s>\r\nSubject: %s message %d\r\nDate: %s\r\n"+
		"Message-ID: <%d.%d@%s>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\n",
		Sender, rcpt, tag, n, now.Format(time.RFC1123Z), n, now.UnixNano(), SenderDomain)
	return smtpload.AppendBody(b, rng, bodySize)
}

// Corpus is n distinct signed messages for a round tagged tag, and the
// time spent signing them (one goroutine, message generation excluded).
func Corpus(k *Key, seed uint64, tag string, n int, rcpt string, bodySize int) ([][]byte, time.Duration, error) {
	rng := mrand.New(mrand.NewPCG(seed, uint64(time.Now().UnixNano())))
	out := make([][]byte, n)
	var signing time.Duration
	for i := range out {
		msg := Message(rng, tag, i+1, rcpt, bodySize)
		t0 := time.Now()
		signed, err := k.Sign(msg)
		signing += time.Since(t0)
		if err != nil {
			return nil, 0, err
		}
		out[i] = signed
	}
	return out, signing, nil
}
