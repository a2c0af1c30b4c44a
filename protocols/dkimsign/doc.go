// Package dkimsign signs the mail Surat sends with its domains' DKIM keys
// (RFC 6376, RFC 8463) and checks, before signing, that a submitted
// message's From belongs to the user who submitted it, so that a signature
// never vouches for a forged From (RFC 6409 §8.1 lets an MSA check it).
//
// A Signer holds one domain's keys: the oldest Ed25519 and the oldest RSA
// key (package domains explains why the oldest: rotation), and signs with
// both, as RFC 8463 §3 advises while verifiers without Ed25519 remain. A
// message is written to it as it streams; only its header is held (to
// choose the fields to sign), the body goes straight through the hashes.
// Canonicalization is relaxed/relaxed (RFC 6376 §3.4.2, §3.4.4), which
// survives the re-folding and white-space changes of relays. The signed
// fields are those of Fields present in the message, each instance, and
// From once more than present (RFC 6376 §8.15 oversigning): a From added
// later breaks the signature.
//
// Keys caches a Signer per domain for the node, read from the store and
// dropped when the store's change feed reports a change to the domain
// (mailbox DomainsChanged), so a rotation or a retirement takes effect on
// every node as it applies the event.
//
// Signing uses github.com/emersion/go-msgauth's dkim package.
package dkimsign
