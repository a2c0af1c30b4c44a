package mailbox

import (
	"slices"
	"strings"

	evlog "github.com/surat-mail/surat/log"
)

const (
	// maxAddressLen: RFC 5321 §4.5.3.1.1 and §4.5.3.1.2 (64-octet local
	// part, 255-octet domain) plus the '@'.
	maxAddressLen = 64 + 1 + 255
	// maxMailboxNameLen bounds a key; IMAP sets no limit, 1024 octets is
	// generous for a hierarchical name.
	maxMailboxNameLen = 1024
	// maxFlagLen bounds one keyword.
	maxFlagLen = 256
	inboxName  = "INBOX"
)

var errInvalid = evlog.ErrorCode_ERROR_CODE_INVALID

// checkAddress validates a canonical address (lower-case local@domain,
// which the proposer produced). NUL and other controls are refused because
// NUL separates fields in keys.
func checkAddress(what, a string) error {
	if a == "" || !strings.Contains(a, "@") || len(a) > maxAddressLen || hasControl(a) {
		return refuse(errInvalid, "%s %q is not an address", what, a)
	}
	return nil
}

func checkDomain(d string) error {
	if d == "" || strings.Contains(d, "@") || len(d) > 255 || hasControl(d) {
		return refuse(errInvalid, "domain %q is not a domain name", d)
	}
	return nil
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f })
}

// canonicalMailboxName validates a hierarchical name and spells INBOX, and
// the first component of names below it, in upper case: INBOX is
// case-insensitive (RFC 9051 §5.1).
func canonicalMailboxName(name string) (string, error) {
	if name == "" || len(name) > maxMailboxNameLen || strings.ContainsRune(name, 0) ||
		strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return "", refuse(errInvalid, "mailbox name %q is not valid", name)
	}
	first, rest, below := strings.Cut(name, "/")
	if strings.EqualFold(first, inboxName) {
		if below {
			return inboxName + "/" + rest, nil
		}
		return inboxName, nil
	}
	return name, nil
}

// specialUses are the RFC 6154 §2 attributes and RFC 8457 §3 \Important.
var specialUses = []string{`\All`, `\Archive`, `\Drafts`, `\Flagged`, `\Important`, `\Junk`, `\Sent`, `\Trash`}

func canonicalSpecialUse(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	for _, u := range specialUses {
		if strings.EqualFold(s, u) {
			return u, nil
		}
	}
	return "", refuse(errInvalid, "special-use attribute %q is not known", s)
}

// systemFlags are the flags a client may set (RFC 9051 §2.3.2); \Recent is
// server-managed and IMAP4rev2 removed it.
var systemFlags = []string{`\Answered`, `\Deleted`, `\Draft`, `\Flagged`, `\Seen`}

// canonicalFlags validates flags, canonicalises system flags, drops
// \Recent, removes case-insensitive duplicates (keeping the first spelling)
// and sorts.
func canonicalFlags(in []string) ([]string, error) {
	out := make([]string, 0, len(in))
	seen := map[string]bool{} // lookups only
	for _, f := range in {
		c, err := canonicalFlag(f)
		if err != nil {
			return nil, err
		}
		if c == "" {
			continue
		}
		fold := strings.ToLower(c)
		if seen[fold] {
			continue
		}
		seen[fold] = true
		out = append(out, c)
	}
	slices.Sort(out)
	return out, nil
}

// canonicalFlag returns the flag's stored spelling, or "" for \Recent.
func canonicalFlag(f string) (string, error) {
	if strings.HasPrefix(f, `\`) {
		if strings.EqualFold(f, `\Recent`) {
			return "", nil
		}
		for _, s := range systemFlags {
			if strings.EqualFold(f, s) {
				return s, nil
			}
		}
		return "", refuse(errInvalid, "flag %q is not a system flag", f)
	}
	if f == "" || len(f) > maxFlagLen {
		return "", refuse(errInvalid, "flag %q is not valid", f)
	}
	for i := 0; i < len(f); i++ {
		if !isAtomChar(f[i]) {
			return "", refuse(errInvalid, "flag %q is not an atom", f)
		}
	}
	return f, nil
}

// isAtomChar: RFC 9051 §9, ATOM-CHAR = any CHAR except atom-specials.
func isAtomChar(c byte) bool {
	if c <= 0x20 || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\', ']':
		return false
	}
	return true
}

// foldedSet is a case-insensitive set of flags (lookups only).
func foldedSet(flags []string) map[string]bool {
	m := make(map[string]bool, len(flags))
	for _, f := range flags {
		m[strings.ToLower(f)] = true
	}
	return m
}

// applyFlagOp computes a message's new flags; both inputs are canonical.
func applyFlagOp(op evlog.FlagOp, current, flags []string) []string {
	switch op {
	case evlog.FlagOp_FLAG_OP_ADD:
		out := slices.Clone(current)
		have := foldedSet(current)
		for _, f := range flags {
			if !have[strings.ToLower(f)] {
				out = append(out, f)
			}
		}
		slices.Sort(out)
		return out
	case evlog.FlagOp_FLAG_OP_REMOVE:
		drop := foldedSet(flags)
		return slices.DeleteFunc(slices.Clone(current), func(f string) bool { return drop[strings.ToLower(f)] })
	default: // FLAG_OP_REPLACE
		return slices.Clone(flags)
	}
}

// uidSpan is an inclusive UID range.
type uidSpan struct{ first, last uint32 }

// normalizeRanges validates UID ranges and returns them sorted and merged,
// so iterating them visits each UID once, in order. It never expands them.
func normalizeRanges(in []*evlog.UidRange) ([]uidSpan, error) {
	if len(in) == 0 {
		return nil, refuse(errInvalid, "no UIDs")
	}
	spans := make([]uidSpan, 0, len(in))
	for _, r := range in {
		if r.GetFirst() == 0 || r.GetLast() < r.GetFirst() {
			return nil, refuse(errInvalid, "UID range %d:%d is not valid", r.GetFirst(), r.GetLast())
		}
		spans = append(spans, uidSpan{r.GetFirst(), r.GetLast()})
	}
	return mergeSpans(spans), nil
}

// checkHash validates a SHA-256 body hash.
func checkHash(h []byte) error {
	if len(h) != hashLen {
		return refuse(errInvalid, "blob hash of %d bytes, want %d", len(h), hashLen)
	}
	return nil
}

// checkCopyLayout validates a BlobStored that copies a stored body
// (copy_of): it carries no bytes of the body but its head, and names no
// upload; its size and chunk count are those of head plus copy_of's body
// from copy_skip on (copyOfSize bytes).
func checkCopyLayout(e *evlog.BlobStored, copyOfSize uint64) error {
	if err := checkHash(e.GetCopyOf()); err != nil {
		return err
	}
	if len(e.GetData()) > 0 || len(e.GetUploadId()) > 0 || e.GetStagedChunks() > 0 || e.GetChunk() != 0 {
		return refuse(errInvalid, "copy of %x carries data, an upload or a chunk index", e.GetCopyOf())
	}
	if len(e.GetHead()) > evlog.MaxHead {
		return refuse(errInvalid, "head of %d bytes, more than %d", len(e.GetHead()), evlog.MaxHead)
	}
	if e.GetCopySkip() > copyOfSize {
		return refuse(errInvalid, "copy skips %d bytes of a body of %d", e.GetCopySkip(), copyOfSize)
	}
	size := uint64(len(e.GetHead())) + copyOfSize - e.GetCopySkip()
	if e.GetSize() != size || uint64(e.GetChunks()) != chunksFor(size) {
		return refuse(errInvalid, "copy of %d bytes in %d chunks, want %d in %d", e.GetSize(), e.GetChunks(), size, chunksFor(size))
	}
	return nil
}
