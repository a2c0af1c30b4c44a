// Package mtasts implements SMTP MTA Strict Transport Security (RFC 8461)
// for Surat's outbound delivery: the _mta-sts TXT record, the policy file
// and its parser, the policy fetch over HTTPS, and a per-node cache.
//
// The fetch resolves mta-sts.DOMAIN through Surat's own dns.Resolver
// (never the operating system's), validates the server's certificate
// against the Web PKI (or a pool given by the caller), follows no
// redirects, and bounds the body's size and the fetch's time (RFC 8461
// §3.3). The cache keeps a policy until its max_age passes and refetches
// when the TXT record's id changes (RFC 8461 §5.1); it lives in memory
// on each node: a new leader fetches again, which costs a look-up and an
// HTTPS request, never a delivery decision.
//
// This package decides nothing about delivery: the outbound Transport
// asks Lookup for the domain's policy and applies it (mx: patterns,
// enforce or testing). It also holds Handler, the http.Handler that serves
// Surat's own policy at https://mta-sts.DOMAIN/.well-known/mta-sts.txt.
package mtasts
