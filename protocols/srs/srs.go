package srs

import (
	"crypto/hmac"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/address"
)

// MaxAge is how many days an SRS0 address stays valid for bounces: 21, as
// libsrs2 and postsrsd default to. A timestamp up to one day in the
// future is also accepted, for a node whose clock passed midnight before
// the one that made the address.
const MaxAge = 21

// hashLen is the number of base64 characters of the HMAC kept in an
// address (libsrs2's default).
const hashLen = 4

// base32 is the timestamp alphabet (RFC 4648 §6), compared without regard
// to case.
const base32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// Errors Reverse and Forward wrap; test with errors.Is.
var (
	// ErrNotSRS: the local part does not start with SRS0 or SRS1.
	ErrNotSRS = errors.New("not an SRS address")
	// ErrSyntax: an SRS address whose fields cannot be read, or a sender
	// that cannot be rewritten (a quoted local part, an address literal).
	ErrSyntax = errors.New("malformed address")
	// ErrHash: the hash does not match under any key (forged, or made
	// under a key no longer kept).
	ErrHash = errors.New("hash does not match")
	// ErrExpired: the SRS0 timestamp is older than MaxAge days.
	ErrExpired = errors.New("timestamp expired")
	// ErrTooLong: the rewritten address would pass RFC 5321 §4.5.3.1.3's
	// path length, so a bounce to it could not be addressed.
	ErrTooLong = errors.New("rewritten address too long")
)

// Rewriter rewrites senders into addresses at one SRS domain and reverses
// them. It is safe for concurrent use.
type Rewriter struct {
	keys   [][]byte
	domain string
	now    func() time.Time
}

// New returns a Rewriter making addresses at domain (the host part of
// every SRS address, one whose MX is a Surat node). keys[0] signs, every
// key verifies. now is the clock for timestamps (nil: time.Now).
func New(keys [][]byte, domain string, now func() time.Time) (*Rewriter, error) {
	if len(keys) == 0 {
		return nil, errors.New("srs: no key")
	}
	ks := make([][]byte, len(keys))
	for i, k := range keys {
		if len(k) == 0 {
			return nil, fmt.Errorf("srs: key %d is empty", i)
		}
		ks[i] = append([]byte(nil), k...)
	}
	d, err := address.Domain(domain)
	if err != nil {
		return nil, fmt.Errorf("srs: %w", err)
	}
	if now == nil {
		now = time.Now
	}
	return &Rewriter{keys: ks, domain: d, now: now}, nil
}

// Domain is the domain of the addresses r makes.
func (r *Rewriter) Domain() string { return r.domain }

// Forward rewrites sender, an envelope sender (MAIL FROM, without angle
// brackets), for relaying mail onward:
//   - the null sender stays null (RFC 5321 §4.5.5: nothing to bounce to);
//   - a sender at r's own domain is kept, as SPF passes for it already;
//   - an SRS0 address becomes an SRS1 one, naming the host that made it,
//     so a bounce goes back through that host (the guarded scheme);
//   - an SRS1 address keeps its host and tail and gets a new hash;
//   - any other becomes SRS0=HHHH=TT=domain=local@r.Domain().
//
// A sender that cannot be carried in a local part (a quoted one, a domain
// that is an address literal) is an ErrSyntax error, one whose rewriting
// would be longer than address.MaxAddressLen an ErrTooLong error. Both are
// permanent: the caller relays with the sender unchanged, as postsrsd
// does when it cannot rewrite (SPF may fail at the destination, but the
// message is not lost), rather than retry.
func (r *Rewriter) Forward(sender string) (string, error) {
	out, err := r.forward(sender)
	if err == nil && len(out) > address.MaxAddressLen {
		return "", fmt.Errorf("srs: forward %q: %w (%d octets)", sender, ErrTooLong, len(out))
	}
	return out, err
}

func (r *Rewriter) forward(sender string) (string, error) {
	if sender == "" {
		return "", nil
	}
	local, host, err := split(sender)
	if err != nil {
		return "", fmt.Errorf("srs: forward %q: %w", sender, err)
	}
	if strings.EqualFold(strings.TrimSuffix(host, "."), r.domain) {
		return sender, nil
	}
	if err := checkLocal(local); err != nil {
		return "", fmt.Errorf("srs: forward %q: %w", sender, err)
	}
	h, err := address.Domain(host)
	if err != nil {
		return "", fmt.Errorf("srs: forward %q: %w: %v", sender, ErrSyntax, err)
	}
	switch kind(local) {
	case 0:
		tail := local[4:] // from its separator on
		if len(tail) < 2 {
			return "", fmt.Errorf("srs: forward %q: %w: empty SRS0 address", sender, ErrSyntax)
		}
		return "SRS1=" + r.hash(r.keys[0], h, tail) + "=" + h + "=" + tail + "@" + r.domain, nil
	case 1:
		srs1, err := parseSRS1(local)
		if err != nil {
			return "", fmt.Errorf("srs: forward %q: %w", sender, err)
		}
		return "SRS1=" + r.hash(r.keys[0], srs1.host, srs1.tail) + "=" + srs1.host + "=" + srs1.tail + "@" + r.domain, nil
	}
	ts := timestamp(r.now())
	return "SRS0=" + r.hash(r.keys[0], ts, h, local) + "=" + ts + "=" + h + "=" + local + "@" + r.domain, nil
}

// Reverse gives back the address an SRS address stands for, after
// checking its hash under each key and, for SRS0, its age: the original
// sender for SRS0, the SRS0 address at the host that made it for SRS1.
// The domain of addr is not checked (the hash does not cover it): the
// caller decides which domains are its own. Errors wrap ErrNotSRS,
// ErrSyntax, ErrHash or ErrExpired.
func (r *Rewriter) Reverse(addr string) (string, error) {
	local, _, err := split(addr)
	if err != nil {
		return "", fmt.Errorf("srs: reverse %q: %w", addr, err)
	}
	switch kind(local) {
	case 0:
		f := strings.SplitN(local[5:], "=", 4)
		if len(f) != 4 || f[3] == "" || len(f[1]) != 2 {
			return "", fmt.Errorf("srs: reverse %q: %w: want SRS0=hash=tt=domain=local", addr, ErrSyntax)
		}
		hash, ts, host, orig := f[0], f[1], f[2], f[3]
		if _, err := address.Domain(host); err != nil {
			return "", fmt.Errorf("srs: reverse %q: %w: %v", addr, ErrSyntax, err)
		}
		then, ok := decodeTimestamp(ts)
		if !ok {
			return "", fmt.Errorf("srs: reverse %q: %w: timestamp %q", addr, ErrSyntax, ts)
		}
		if !r.verify(hash, ts, host, orig) {
			return "", fmt.Errorf("srs: reverse %q: %w", addr, ErrHash)
		}
		if !fresh(then, r.now()) {
			return "", fmt.Errorf("srs: reverse %q: %w (older than %d days)", addr, ErrExpired, MaxAge)
		}
		// Forward made only such local parts; a forged hash (4 base64
		// characters are guessable with enough tries) gets no further.
		if err := checkLocal(orig); err != nil {
			return "", fmt.Errorf("srs: reverse %q: %w", addr, err)
		}
		return orig + "@" + host, nil
	case 1:
		s, err := parseSRS1(local)
		if err != nil {
			return "", fmt.Errorf("srs: reverse %q: %w", addr, err)
		}
		if !r.verify(s.hash, s.host, s.tail) {
			return "", fmt.Errorf("srs: reverse %q: %w", addr, ErrHash)
		}
		return "SRS0" + s.tail + "@" + s.host, nil
	}
	return "", fmt.Errorf("srs: reverse %q: %w", addr, ErrNotSRS)
}

// IsSRS reports whether local, a local part, has the form of an SRS
// address ("SRS0" or "SRS1", any case, then one of the separators
// libsrs2 accepts: '=', '+', '-'). It says nothing of its hash.
func IsSRS(local string) bool { return kind(local) >= 0 }

// kind is 0 for an SRS0 local part, 1 for SRS1, -1 otherwise.
func kind(local string) int {
	if len(local) < 5 || !strings.EqualFold(local[:3], "SRS") || !strings.ContainsRune("=+-", rune(local[4])) {
		return -1
	}
	switch local[3] {
	case '0':
		return 0
	case '1':
		return 1
	}
	return -1
}

type srs1 struct{ hash, host, tail string }

// parseSRS1 reads "SRS1=HHHH=host==HHHH=TT=domain=local": tail is what
// followed "SRS0" in the address the host made, its separator included.
func parseSRS1(local string) (srs1, error) {
	f := strings.SplitN(local[5:], "=", 3)
	if len(f) != 3 || len(f[2]) < 2 || !strings.ContainsRune("=+-", rune(f[2][0])) {
		return srs1{}, fmt.Errorf("%w: want SRS1=hash=host==...", ErrSyntax)
	}
	if _, err := address.Domain(f[1]); err != nil {
		return srs1{}, fmt.Errorf("%w: %v", ErrSyntax, err)
	}
	return srs1{hash: f[0], host: f[1], tail: f[2]}, nil
}

// split cuts an address at its last '@'.
func split(addr string) (local, host string, err error) {
	at := strings.LastIndexByte(addr, '@')
	if at <= 0 || at == len(addr)-1 {
		return "", "", fmt.Errorf("%w: want local@domain", ErrSyntax)
	}
	return addr[:at], addr[at+1:], nil
}

// checkLocal refuses a local part that would not survive as part of a
// dot-atom-ish local part of the rewritten address: quoted strings, white
// space, controls and RFC 5322 specials. UTF-8 (RFC 6531) passes.
func checkLocal(local string) error {
	for i := 0; i < len(local); i++ {
		if c := local[i]; c <= ' ' || c == 0x7f || strings.IndexByte(`"\<>()[],;:@`, c) >= 0 {
			return fmt.Errorf("%w: local part %q cannot be rewritten", ErrSyntax, local)
		}
	}
	return nil
}

// hash is the first hashLen characters of the base64 HMAC-SHA1 of the
// lower-cased parts, each ended by a NUL so that no two lists of parts
// hash the same input.
func (r *Rewriter) hash(key []byte, parts ...string) string {
	m := hmac.New(sha1.New, key)
	for _, p := range parts {
		m.Write([]byte(strings.ToLower(p)))
		m.Write([]byte{0})
	}
	return base64.StdEncoding.EncodeToString(m.Sum(nil))[:hashLen]
}

// verify reports whether got is the hash of parts under one of the keys,
// compared without regard to case (a relay may change the case of a
// local part).
func (r *Rewriter) verify(got string, parts ...string) bool {
	if len(got) != hashLen {
		return false
	}
	g := []byte(strings.ToLower(got))
	ok := 0
	for _, k := range r.keys {
		ok |= subtle.ConstantTimeCompare(g, []byte(strings.ToLower(r.hash(k, parts...))))
	}
	return ok == 1
}

// day is t's day since the Unix epoch modulo 1024.
func day(t time.Time) int {
	d := t.Unix() / 86400
	if t.Unix() < 0 && t.Unix()%86400 != 0 {
		d--
	}
	return int(((d % 1024) + 1024) % 1024)
}

// timestamp encodes t's day in two base32 characters.
func timestamp(t time.Time) string {
	d := day(t)
	return string([]byte{base32[d>>5], base32[d&31]})
}

func decodeTimestamp(s string) (int, bool) {
	hi := strings.IndexByte(base32, upper(s[0]))
	lo := strings.IndexByte(base32, upper(s[1]))
	if hi < 0 || lo < 0 {
		return 0, false
	}
	return hi<<5 | lo, true
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'z' {
		return c - 'a' + 'A'
	}
	return c
}

// fresh reports whether a timestamp of day then is at most MaxAge days
// old at now, or one day ahead (clock skew between nodes), modulo 1024.
func fresh(then int, now time.Time) bool {
	age := ((day(now)-then)%1024 + 1024) % 1024
	return age <= MaxAge || age == 1023
}
