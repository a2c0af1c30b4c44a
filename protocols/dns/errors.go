package dns

import (
	"context"
	"errors"
	"net"
)

// The causes a *net.DNSError from a Client unwraps to (errors.Is), for
// callers that must tell them apart; IsNotFound and Temporary() are what
// most callers need.
var (
	// ErrNXDomain: the name does not exist (RCODE 3, RFC 1035 §4.1.1).
	// IsNotFound is set.
	ErrNXDomain = errors.New("no such host")
	// ErrNoData: the name exists but has no record of the asked type
	// (RFC 2308 §2.2). IsNotFound is set, as the Go resolver sets it.
	ErrNoData = errors.New("no such record")
	// ErrServFail: the server could not answer (RCODE 2): its upstream
	// failed, or DNSSEC validation failed. IsTemporary is set.
	ErrServFail = errors.New("server failure")
	// ErrRefused: the server refused the query (RCODE 5). IsTemporary is
	// set.
	ErrRefused = errors.New("query refused")
	// ErrMisbehaving: an answer that does not answer the question, an
	// unexpected RCODE or a CNAME chain too long. IsTemporary is set.
	ErrMisbehaving = errors.New("server misbehaving")
	// ErrTimeout: no answer in time from the server. IsTimeout and
	// IsTemporary are set.
	ErrTimeout = errors.New("i/o timeout")
)

// ErrUnsupported is returned by System for the look-ups that the operating
// system's resolver cannot do (TLSA, the AD bit).
var ErrUnsupported = errors.New("dns: the system resolver cannot do this look-up (use --resolver HOST:PORT)")

// dnsError builds the error Client returns: always a bare *net.DNSError,
// never wrapped, because blitiri.com.ar/go/spf and go-msgauth test it with
// a type assertion (err.(*net.DNSError)), not errors.As.
func dnsError(cause error, name, server string) *net.DNSError {
	e := &net.DNSError{Err: cause.Error(), Name: name, Server: server, UnwrapErr: cause}
	switch {
	case errors.Is(cause, ErrNXDomain), errors.Is(cause, ErrNoData):
		e.IsNotFound = true
	case errors.Is(cause, ErrTimeout), errors.Is(cause, context.DeadlineExceeded):
		e.IsTimeout = true
		e.IsTemporary = true
	default:
		// SERVFAIL, REFUSED, a cancelled look-up, a network error: none
		// of them says anything about the name, so none may turn into
		// a permanent verdict (RFC 7208 §2.6.6 temperror).
		e.IsTemporary = true
	}
	return e
}

// notFound is the error for a name that cannot exist (empty, not a domain
// name, a bad address for a PTR look-up), as the Go resolver reports it.
func notFound(name string) *net.DNSError {
	return &net.DNSError{Err: ErrNXDomain.Error(), Name: name, IsNotFound: true, UnwrapErr: ErrNXDomain}
}

// withName returns a copy of a cached or shared error that names the name
// the caller asked for.
func withName(e *net.DNSError, name string) *net.DNSError {
	c := *e
	c.Name = name
	return &c
}
