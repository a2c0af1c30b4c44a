package bayes

import (
	"bytes"
	"io"
	"slices"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxInput is how much of a message is read; the rest is ignored (a
	// spammer gains nothing by padding past it: the start is read).
	MaxInput = 256 << 10
	// MaxTokens bounds the distinct tokens of one message, and so the size
	// of a SpamTrained event (8 bytes a token).
	MaxTokens = 4096
	// maxRawTokens bounds the tokens emitted before deduplication.
	maxRawTokens = 8 * MaxTokens
	// MinWord and MaxWord bound a word's length in characters.
	MinWord = 3
	MaxWord = 40
	// maxDepth bounds MIME nesting (multipart in multipart, message/rfc822).
	maxDepth = 8
	// maxParts bounds the MIME parts read in one message.
	maxParts = 64
	// maxFields bounds the header fields read in one header block.
	maxFields = 128
	// maxReceived bounds the Received fields read: the nearest hops.
	maxReceived = 8
)

// Tokenizer collects the tokens of one message. It is an io.Writer fed the
// raw message (RFC 5322, CRLF or LF line ends); Tokens parses what was
// written. It keeps at most MaxInput bytes, so a caller can stream a
// message of any size into it. A Tokenizer is not safe for concurrent use.
type Tokenizer struct {
	buf      []byte
	features []string
	// strs, when not nil, receives every token's string (tests, debugging).
	strs *[]string
}

// NewTokenizer returns an empty Tokenizer.
func NewTokenizer() *Tokenizer { return &Tokenizer{} }

// Write keeps the first MaxInput bytes written and ignores the rest; it never
// fails.
func (t *Tokenizer) Write(p []byte) (int, error) {
	if room := MaxInput - len(t.buf); room > 0 {
		t.buf = append(t.buf, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

// AddFeature adds a fact the receiving server established about the
// message, such as "auth:dmarc=pass", "ptr:none", "helo:mismatch" or
// "dnsbl:zen.spamhaus.org". Features are namespaced apart from the
// message's own text, so the message cannot forge them.
func (t *Tokenizer) AddFeature(name string) { t.features = append(t.features, name) }

// Tokens returns the hashes of the message's tokens and features: sorted,
// distinct, at most MaxTokens.
func (t *Tokenizer) Tokens() []uint64 {
	e := emitter{strs: t.strs}
	for _, f := range t.features {
		e.emitString("f/", f)
	}
	parseMessage(&e, t.buf, 0)
	return e.result()
}

// Tokenize reads a whole message (at most MaxInput bytes of it) and returns
// its tokens as Tokenizer.Tokens does.
func Tokenize(r io.Reader) ([]uint64, error) {
	t := NewTokenizer()
	if _, err := io.Copy(t, io.LimitReader(r, MaxInput)); err != nil {
		return nil, err
	}
	return t.Tokens(), nil
}

// Hash is a token string's hash: 64-bit FNV-1a of its bytes. Tokens hash
// their lower-cased form; Hash does not change case.
func Hash(token string) uint64 {
	h := uint64(fnvOffset)
	for i := 0; i < len(token); i++ {
		h ^= uint64(token[i])
		h *= fnvPrime
	}
	return h
}

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// emitter hashes tokens as they are found.
type emitter struct {
	raw   []uint64
	parts int
	strs  *[]string
}

func (e *emitter) full() bool { return len(e.raw) >= maxRawTokens }

// emitString emits prefix+s as is (features, fixed names).
func (e *emitter) emitString(prefix, s string) {
	if e.full() {
		return
	}
	h := uint64(fnvOffset)
	for i := 0; i < len(prefix); i++ {
		h ^= uint64(prefix[i])
		h *= fnvPrime
	}
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	e.raw = append(e.raw, h)
	if e.strs != nil {
		*e.strs = append(*e.strs, prefix+s)
	}
}

// emit emits prefix followed by w lower-cased (UTF-8; invalid bytes kept).
func (e *emitter) emit(prefix string, w []byte) {
	if e.full() {
		return
	}
	h := hashString(fnvOffset, prefix)
	h = hashLower(h, w)
	e.raw = append(e.raw, h)
	if e.strs != nil {
		*e.strs = append(*e.strs, prefix+string(lowerBytes(w)))
	}
}

// emitPair emits prefix, a lower-cased, a space and b lower-cased.
func (e *emitter) emitPair(prefix string, a, b []byte) {
	if e.full() {
		return
	}
	h := hashString(fnvOffset, prefix)
	h = hashLower(h, a)
	h = (h ^ ' ') * fnvPrime
	h = hashLower(h, b)
	e.raw = append(e.raw, h)
	if e.strs != nil {
		*e.strs = append(*e.strs, prefix+string(lowerBytes(a))+" "+string(lowerBytes(b)))
	}
}

func hashString(h uint64, s string) uint64 {
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return h
}

// hashLower continues an FNV-1a hash with w lower-cased.
func hashLower(h uint64, w []byte) uint64 {
	for i := 0; i < len(w); {
		c := w[i]
		if c < utf8.RuneSelf {
			if 'A' <= c && c <= 'Z' {
				c += 'a' - 'A'
			}
			h ^= uint64(c)
			h *= fnvPrime
			i++
			continue
		}
		r, n := utf8.DecodeRune(w[i:])
		if r == utf8.RuneError && n == 1 {
			h ^= uint64(c)
			h *= fnvPrime
			i++
			continue
		}
		var enc [utf8.UTFMax]byte
		m := utf8.EncodeRune(enc[:], unicode.ToLower(r))
		for _, b := range enc[:m] {
			h ^= uint64(b)
			h *= fnvPrime
		}
		i += n
	}
	return h
}

// lowerBytes lower-cases w as hashLower does (tests, debugging).
func lowerBytes(w []byte) []byte {
	out := make([]byte, 0, len(w))
	for i := 0; i < len(w); {
		r, n := utf8.DecodeRune(w[i:])
		if r == utf8.RuneError && n == 1 {
			out = append(out, w[i])
		} else {
			out = utf8.AppendRune(out, unicode.ToLower(r))
		}
		i += n
	}
	return out
}

// result sorts and deduplicates; past MaxTokens distinct tokens it keeps
// the first ones emitted.
func (e *emitter) result() []uint64 {
	out := slices.Clone(e.raw)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) <= MaxTokens {
		return out
	}
	seen := make(map[uint64]struct{}, MaxTokens)
	out = out[:0]
	for _, h := range e.raw {
		if _, ok := seen[h]; ok {
			continue
		}
		seen[h] = struct{}{}
		out = append(out, h)
		if len(out) == MaxTokens {
			break
		}
	}
	slices.Sort(out)
	return out
}

// isWordByte reports whether an ASCII byte belongs to a word (Graham:
// alphanumerics, dashes, apostrophes and dollar signs).
func isWordByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '\'' || c == '$'
}

// words emits the words of UTF-8 text under prefix.
func (e *emitter) words(prefix string, text []byte) {
	var prev []byte
	i := 0
	for i < len(text) && !e.full() {
		// Skip separators.
		for i < len(text) {
			c := text[i]
			if c < utf8.RuneSelf {
				if isWordByte(c) {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRune(text[i:])
			if r != utf8.RuneError && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
				break
			}
			i += n
		}
		start, runes := i, 0
		for i < len(text) {
			c := text[i]
			if c < utf8.RuneSelf {
				if !isWordByte(c) {
					break
				}
				i++
				runes++
				continue
			}
			r, n := utf8.DecodeRune(text[i:])
			if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)) {
				break
			}
			i += n
			runes++
		}
		if w := e.word(prefix, text[start:i], runes); w != nil {
			if prev != nil {
				e.emitPair(prefix+"bi:", prev, w)
			}
			prev = w
		}
	}
}

// word emits one run of word characters, trimmed of dashes and
// apostrophes; it returns the word emitted, if a plain one.
func (e *emitter) word(prefix string, w []byte, runes int) []byte {
	for len(w) > 0 && (w[0] == '-' || w[0] == '\'') {
		w, runes = w[1:], runes-1
	}
	for len(w) > 0 && (w[len(w)-1] == '-' || w[len(w)-1] == '\'') {
		w, runes = w[:len(w)-1], runes-1
	}
	if runes < MinWord {
		return nil
	}
	if runes > MaxWord {
		// SpamBayes' "skip" tokens: long runs (encoded data, hashes) say
		// something by their first character and length only.
		first, _ := utf8.DecodeRune(w)
		var b [16]byte
		s := append(b[:0], "skip:"...)
		s = utf8.AppendRune(s, unicode.ToLower(first))
		s = append(s, ' ')
		s = appendInt(s, min(runes/10, 99))
		e.emitString(prefix, string(s))
		return nil
	}
	digits := true
	for _, c := range w {
		if !('0' <= c && c <= '9' || c == '-' || c == '\'') {
			digits = false
			break
		}
	}
	if digits {
		// Bare numbers (dates, times, ids) are noise; "$100" is kept.
		return nil
	}
	e.emit(prefix, w)
	if runes >= 4 && allUpper(w) {
		e.emit(prefix+"caps:", w)
	}
	return w
}

// allUpper reports whether an ASCII word's letters are all upper-case.
func allUpper(w []byte) bool {
	letters := 0
	for _, c := range w {
		switch {
		case 'a' <= c && c <= 'z', c >= utf8.RuneSelf:
			return false
		case 'A' <= c && c <= 'Z':
			letters++
		}
	}
	return letters >= 3
}

func appendInt(b []byte, n int) []byte {
	if n >= 10 {
		b = append(b, byte('0'+n/10))
	}
	return append(b, byte('0'+n%10))
}

// trimSpace trims ASCII white space.
func trimSpace(b []byte) []byte { return bytes.TrimSpace(b) }
