// Package arc verifies and adds Authenticated Received Chains (ARC, RFC
// 8617): the sets of ARC-Authentication-Results, ARC-Message-Signature and
// ARC-Seal fields that mailing lists and forwarders add so that a receiver
// can see what authentication found before the message was changed.
//
// Surat uses it on its MX, where a DMARC failure may be overridden when
// the chain passes and its newest sealers are trusted by the operator
// (Result.Trusted), and later to seal mail it forwards (Seal).
//
// # Verification (RFC 8617 §5.2)
//
// Verifier.Verify, or Verifier.NewVerification written to as the message
// streams in, runs the steps of §5.2: collect the sets (step 1; none is
// status none, more than 50 or an instance above 50 is fail, §4.2.1);
// the newest seal's cv=fail ends the chain (step 2); the structure (step
// 3: one AAR, AMS and AS per instance, instances 1..N without gaps, cv=none
// at 1 and cv=pass after); the newest AMS (step 4) as a DKIM signature
// (RFC 6376 §6.1: relaxed or simple canonicalization, l=, x=, h= with
// From and without ARC-Seal); every seal, newest first, over the sets
// 1..i in order with relaxed canonicalization (step 6, §5.1.1); then, for
// a chain that passes, the oldest AMS that still verifies (step 5, which
// never fails a chain: Result.OldestPass).
// Keys are DKIM key records at selector._domainkey.domain (RFC 6376
// §3.6), RSA (at least 1024 bits, RFC 8301) or Ed25519 (RFC 8463), fetched
// through a LookupTXT function such as protocols/dns's Resolver.LookupTXT.
// A look-up that fails other than with "not found" makes the result
// TempError (errors.Is(Result.Err, ErrTemporary)), never Fail.
//
// The body is hashed while it streams, once per canonicalization whatever
// the number of sets and l= values; only the header block is kept (at
// most MaxHeaderBytes, 1 MiB by default; a longer header fails the chain).
// Keys are looked up once per name per message; a chain of 50 sets from
// 50 domains costs at most 100 look-ups, the price of RFC 8617 itself.
//
// # Sealing (RFC 8617 §5.1)
//
// Seal returns the three fields of the next set: cv= from the chain's
// verdict (given, or verified while reading), relaxed/relaxed, the AMS
// over the recommended fields that are present (Sealer.Headers), the seal
// over all sets; a failing chain is sealed with cv=fail over the new set
// only (§5.1.2); a chain whose newest seal is cv=fail, or that has 50
// sets, is not extended.
//
// # Not implemented, and limits
//
//   - Canonicalization and tag-list parsing (RFC 6376 §3.2, §3.4) are
//     written here: github.com/emersion/go-msgauth keeps its own
//     unexported and has no ARC.
//   - rsa-sha1 is refused (RFC 8301 §3.1). Ed25519 seals verify here,
//     but the common ARC implementations (dkimpy, OpenARC) know only
//     rsa-sha256: seal with RSA for mail that leaves Surat.
//   - Bare LF line endings are read as CRLF, in the header and the body.
//   - t= of a seal is written, not checked; x= of an AMS is checked.
//   - The ARC-Authentication-Results payload is read leniently (RFC 8601
//     §2.2 resinfo: method, result, reason, properties); a payload that
//     does not parse gives no results but does not break the chain, as
//     §5.2 checks only its instance.
//   - Which sealers to trust, and what to do with a trusted dmarc=pass,
//     is the caller's policy (protocols/mailauth).
package arc
