// Package auth owns password hashing and verification for every login path
// (IMAP, POP3, SMTP AUTH, admin imports).
//
// New hashes are argon2id (RFC 9106) in the PHC string format
// ($argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, unpadded standard base64),
// with OWASP's recommended minimum parameters: a mail server verifies on every
// login, so memory and time are kept moderate. bcrypt hashes ($2a$, $2b$, $2y$)
// verify too, so accounts migrated from Dovecot keep their passwords.
//
// Hashing is done by the proposer, never by apply (docs/DESIGN.md invariant
// 2): the hash travels in the UserCreated/PasswordChanged event. This package
// does no I/O besides reading crypto/rand and holds no state.
package auth

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"
)

// Params are argon2id cost parameters (RFC 9106 §3.1).
type Params struct {
	MemoryKiB uint32 // m
	Time      uint32 // t, passes
	Threads   uint8  // p, lanes
	SaltLen   int
	KeyLen    int
}

// DefaultParams follow OWASP's argon2id minimum (m=19 MiB, t=2, p=1): about
// 20-30 ms per verification on one core, cheap enough to run on every login
// and expensive enough to slow offline guessing.
var DefaultParams = Params{MemoryKiB: 19456, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits on parsed hashes, so that a crafted or corrupted stored hash cannot
// make a login allocate gigabytes or spin for minutes.
const (
	maxMemoryKiB = 1 << 20 // 1 GiB
	maxTime      = 64
	minSaltLen   = 8 // RFC 9106 §3.1: salt of at least 8 bytes
	maxSaltLen   = 64
	minKeyLen    = 16
	maxKeyLen    = 128
	// bcrypt ignores bytes past 72; argon2id has no such limit, but a
	// password longer than this is not a password.
	MaxPasswordLen = 4096
)

// Errors returned for malformed hashes and passwords.
var (
	ErrMalformedHash   = errors.New("auth: malformed password hash")
	ErrUnsupportedHash = errors.New("auth: unsupported password hash scheme")
	ErrPasswordTooLong = errors.New("auth: password too long")
)

var b64 = base64.RawStdEncoding

// Hash returns the argon2id PHC string of password with DefaultParams and a
// fresh random salt.
func Hash(password string) (string, error) {
	return HashWith(DefaultParams, password)
}

// HashWith is Hash with explicit parameters (tests, benchmarks, tuning).
func HashWith(p Params, password string) (string, error) {
	if len(password) > MaxPasswordLen {
		return "", ErrPasswordTooLong
	}
	if err := p.validate(); err != nil {
		return "", err
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("auth: read salt: %w", err)
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(p.KeyLen))
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.MemoryKiB, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// Verify reports whether password matches the stored hash. A mismatch is
// (false, nil); an error means the stored hash itself is unusable. The
// comparison is constant-time.
func Verify(hash, password string) (bool, error) {
	if len(password) > MaxPasswordLen {
		return false, nil
	}
	switch {
	case strings.HasPrefix(hash, "$argon2id$"):
		ph, err := parsePHC(hash)
		if err != nil {
			return false, err
		}
		key := argon2.IDKey([]byte(password), ph.salt, ph.params.Time, ph.params.MemoryKiB, ph.params.Threads, uint32(len(ph.key)))
		return subtle.ConstantTimeCompare(key, ph.key) == 1, nil
	case strings.HasPrefix(hash, "$2a$"), strings.HasPrefix(hash, "$2b$"), strings.HasPrefix(hash, "$2y$"):
		err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
			return false, nil
		default:
			return false, fmt.Errorf("%w: bcrypt: %v", ErrMalformedHash, err)
		}
	default:
		return false, ErrUnsupportedHash
	}
}

// NeedsRehash reports whether hash should be replaced by Hash's output at
// the next successful login: it is bcrypt, or argon2id with other parameters.
func NeedsRehash(hash string) bool {
	ph, err := parsePHC(hash)
	if err != nil {
		return true
	}
	p := DefaultParams
	return ph.params.MemoryKiB != p.MemoryKiB || ph.params.Time != p.Time ||
		ph.params.Threads != p.Threads || len(ph.salt) != p.SaltLen || len(ph.key) != p.KeyLen
}

// Supported reports whether hash is in a format Verify understands, so an
// import can be refused up front rather than at the user's first login.
func Supported(hash string) bool {
	if strings.HasPrefix(hash, "$argon2id$") {
		_, err := parsePHC(hash)
		return err == nil
	}
	if strings.HasPrefix(hash, "$2a$") || strings.HasPrefix(hash, "$2b$") || strings.HasPrefix(hash, "$2y$") {
		_, err := bcrypt.Cost([]byte(hash))
		return err == nil
	}
	return false
}

func (p Params) validate() error {
	switch {
	case p.MemoryKiB < 8*uint32(p.Threads) || p.MemoryKiB > maxMemoryKiB: // RFC 9106 §3.1: m >= 8p
		return fmt.Errorf("auth: memory %d KiB out of range", p.MemoryKiB)
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("auth: time %d out of range", p.Time)
	case p.Threads < 1:
		return errors.New("auth: threads must be at least 1")
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("auth: salt length %d out of range", p.SaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("auth: key length %d out of range", p.KeyLen)
	}
	return nil
}

type phc struct {
	params Params
	salt   []byte
	key    []byte
}

// parsePHC parses "$argon2id$v=19$m=M,t=T,p=P$SALT$HASH" (PHC string format;
// parameters in this order, as every argon2 implementation writes them).
func parsePHC(s string) (phc, error) {
	var out phc
	parts := strings.Split(s, "$")
	// "", "argon2id", "v=19", "m=..,t=..,p=..", salt, hash
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return out, ErrMalformedHash
	}
	v, ok := strings.CutPrefix(parts[2], "v=")
	if !ok || v != strconv.Itoa(argon2.Version) {
		return out, fmt.Errorf("%w: version %q", ErrMalformedHash, parts[2])
	}
	kv := strings.Split(parts[3], ",")
	if len(kv) != 3 {
		return out, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
	}
	var vals [3]uint64
	for i, name := range []string{"m=", "t=", "p="} {
		num, ok := strings.CutPrefix(kv[i], name)
		if !ok || num == "" || (len(num) > 1 && num[0] == '0') {
			return out, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
		}
		n, err := strconv.ParseUint(num, 10, 32)
		if err != nil {
			return out, fmt.Errorf("%w: parameters %q", ErrMalformedHash, parts[3])
		}
		vals[i] = n
	}
	if vals[2] > 255 {
		return out, fmt.Errorf("%w: parallelism %d", ErrMalformedHash, vals[2])
	}
	salt, err := b64.Strict().DecodeString(parts[4])
	if err != nil {
		return out, fmt.Errorf("%w: salt: %v", ErrMalformedHash, err)
	}
	key, err := b64.Strict().DecodeString(parts[5])
	if err != nil {
		return out, fmt.Errorf("%w: hash: %v", ErrMalformedHash, err)
	}
	out.params = Params{MemoryKiB: uint32(vals[0]), Time: uint32(vals[1]), Threads: uint8(vals[2]), SaltLen: len(salt), KeyLen: len(key)}
	if err := out.params.validate(); err != nil {
		return out, fmt.Errorf("%w: %v", ErrMalformedHash, err)
	}
	out.salt, out.key = salt, key
	return out, nil
}
