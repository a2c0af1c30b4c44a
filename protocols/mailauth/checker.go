package mailauth

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/dns"
)

// SPFPolicy is what an SPF result does on its own (--spf-policy); see the
// package doc.
type SPFPolicy string

const (
	SPFPolicyDMARC  SPFPolicy = "dmarc"
	SPFPolicyReject SPFPolicy = "reject"
	SPFPolicyNone   SPFPolicy = "none"
)

// ParseSPFPolicy parses a --spf-policy value; "" is the default, dmarc.
func ParseSPFPolicy(s string) (SPFPolicy, error) {
	switch p := SPFPolicy(strings.ToLower(strings.TrimSpace(s))); p {
	case "":
		return SPFPolicyDMARC, nil
	case SPFPolicyDMARC, SPFPolicyReject, SPFPolicyNone:
		return p, nil
	default:
		return "", fmt.Errorf("spf policy %q: want dmarc, reject or none", s)
	}
}

// ParseSealers parses a --arc-trusted-sealers value: domains separated by
// commas (or white space), canonicalised.
func ParseSealers(s string) ([]string, error) {
	var out []string
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
		d, err := address.Domain(f)
		if err != nil {
			return nil, fmt.Errorf("arc trusted sealer: %w", err)
		}
		out = append(out, d)
	}
	return out, nil
}

// Config configures a Checker. Resolver and AuthservID are required.
type Config struct {
	// Resolver answers every look-up (SPF, DKIM keys, DMARC records). Its
	// errors must be *net.DNSError with IsNotFound for NXDOMAIN/NODATA and
	// IsTemporary for SERVFAIL and timeouts, unwrapped (the SPF and DKIM
	// libraries type-assert them). dns.ErrDisabled (--resolver none) is
	// taken as "no record".
	Resolver dns.Resolver
	// AuthservID names this node in Authentication-Results (RFC 8601
	// §2.5): the node's --hostname.
	AuthservID string
	// SPFPolicy is --spf-policy; "" means SPFPolicyDMARC.
	SPFPolicy SPFPolicy
	// TrustedARCSealers are the ARC sealing domains (d= of ARC-Seal) whose
	// chains may override a DMARC failure (--arc-trusted-sealers).
	TrustedARCSealers []string
	// ARC verifies ARC chains; nil means protocols/mailauth/arc's
	// verifier, looking keys up through Resolver.
	ARC ARCVerifier
	// Enforce reports whether DMARC reject/quarantine is applied for mail
	// to a recipient domain; false makes that domain report-only. nil
	// enforces everywhere.
	Enforce func(recipientDomain string) bool
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Sample returns a number in [0, 100) for pct= sampling (RFC 7489
	// §6.6.4); nil uses a generator private to the Checker. Tests seed it.
	Sample func() int
	// Logger gets one line per verdict; nil discards.
	Logger *slog.Logger
	// MaxHeaderBytes bounds the header section held in memory; a larger
	// header section is refused (552 5.3.4), as Gmail does. 0 means 1 MiB.
	MaxHeaderBytes int
	// MaxSignatures bounds the DKIM signatures verified per message
	// (later ones are ignored). 0 means 8.
	MaxSignatures int
}

// Checker evaluates inbound messages. It is safe for concurrent use; each
// message has its own Message.
type Checker struct {
	res        resolver
	authservID string
	spfPolicy  SPFPolicy
	trusted    map[string]bool
	arc        ARCVerifier
	enforce    func(string) bool
	now        func() time.Time
	sample     func() int
	log        *slog.Logger
	maxHeader  int
	maxSigs    int
}

// New returns a Checker for cfg.
func New(cfg Config) (*Checker, error) {
	if cfg.Resolver == nil {
		return nil, errors.New("mailauth: no resolver")
	}
	id := strings.TrimSuffix(strings.TrimSpace(cfg.AuthservID), ".")
	if id == "" || !isAuthservID(id) {
		return nil, fmt.Errorf("mailauth: authserv-id %q is not a domain name", cfg.AuthservID)
	}
	pol, err := ParseSPFPolicy(string(cfg.SPFPolicy))
	if err != nil {
		return nil, fmt.Errorf("mailauth: %w", err)
	}
	c := &Checker{
		res:        resolver{cfg.Resolver},
		authservID: id,
		spfPolicy:  pol,
		trusted:    make(map[string]bool),
		arc:        cfg.ARC,
		enforce:    cfg.Enforce,
		now:        cfg.Now,
		sample:     cfg.Sample,
		log:        cfg.Logger,
		maxHeader:  cfg.MaxHeaderBytes,
		maxSigs:    cfg.MaxSignatures,
	}
	for _, s := range cfg.TrustedARCSealers {
		d, err := address.Domain(s)
		if err != nil {
			return nil, fmt.Errorf("mailauth: trusted ARC sealer: %w", err)
		}
		c.trusted[d] = true
	}
	if c.enforce == nil {
		c.enforce = func(string) bool { return true }
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sample == nil {
		var mu sync.Mutex
		rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
		c.sample = func() int {
			mu.Lock()
			defer mu.Unlock()
			return rng.IntN(100)
		}
	}
	if c.arc == nil {
		c.arc = newARCVerifier(c.res.LookupTXT, c.now)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.maxHeader <= 0 {
		c.maxHeader = 1 << 20
	}
	if c.maxSigs <= 0 {
		c.maxSigs = 8
	}
	return c, nil
}

// AuthservID is the authserv-id this Checker writes (and StripResults
// should remove).
func (c *Checker) AuthservID() string { return c.authservID }

// isAuthservID accepts what RFC 8601 §2.2 allows as authserv-id that we
// can also write unquoted: a dot-atom of letters, digits, '-', '_', '.'.
func isAuthservID(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s[0] != '.' && !strings.Contains(s, "..")
}
