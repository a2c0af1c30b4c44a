package authload

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	mrand "math/rand/v2"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/surat-mail/surat/bench/smtpload"
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

// Key is the sending domain's DKIM key.
type Key struct {
	Algorithm string // KeyEd25519 or KeyRSA
	Signer    crypto.Signer
}

// NewKey makes a fresh key of algorithm KeyEd25519 or KeyRSA (2048 bits).
func NewKey(algorithm string) (*Key, error) {
	switch algorithm {
	case KeyEd25519:
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return nil, fmt.Errorf("authload: ed25519 key: %w", err)
		}
		return &Key{Algorithm: algorithm, Signer: priv}, nil
	case KeyRSA:
		priv, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			return nil, fmt.Errorf("authload: rsa key: %w", err)
		}
		return &Key{Algorithm: algorithm, Signer: priv}, nil
	}
	return nil, fmt.Errorf("authload: unknown key algorithm %q (want %s or %s)", algorithm, KeyEd25519, KeyRSA)
}

// Record is the key's DKIM TXT record (RFC 6376 §3.6.1): for Ed25519 the
// bare 32-byte public key (RFC 8463 §4.2), for RSA the DER
// SubjectPublicKeyInfo.
func (k *Key) Record() (string, error) {
	var p []byte
	switch pub := k.Signer.Public().(type) {
	case ed25519.PublicKey:
		p = pub
	case *rsa.PublicKey:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return "", fmt.Errorf("authload: public key: %w", err)
		}
		p = der
	default:
		return "", fmt.Errorf("authload: key of type %T", pub)
	}
	return "v=DKIM1; k=" + k.Algorithm + "; p=" + base64.StdEncoding.EncodeToString(p), nil
}

// signedFields are the header fields a signature covers (RFC 6376
// §5.4.1's recommendation, those a message here carries).
var signedFields = []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type"}

// Sign prepends a DKIM-Signature (d=sender.test, s=sel, relaxed/relaxed)
// made with k to msg, with go-msgauth's signer.
func (k *Key) Sign(msg []byte) ([]byte, error) {
	var out bytes.Buffer
	out.Grow(len(msg) + 512)
	err := dkim.Sign(&out, bytes.NewReader(msg), &dkim.SignOptions{
		Domain:                 SenderDomain,
		Selector:               Selector,
		Signer:                 k.Signer,
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
