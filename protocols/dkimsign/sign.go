package dkimsign

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/emersion/go-msgauth/dkim"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/domains"
)

// Fields are the header fields signed when present (RFC 6376 §5.4.1's
// recommendation), plus every List-* field (RFC 2369, RFC 2919).
var Fields = []string{"From", "Reply-To", "Subject", "Date", "To", "Cc", "In-Reply-To", "References",
	"Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"}

// MaxHeaderBytes bounds the header a Message holds before signing starts.
const MaxHeaderBytes = 1 << 20

// ErrNoKeys is returned for a domain without a usable key.
var ErrNoKeys = errors.New("dkimsign: the domain has no DKIM key")

// ErrHeaderTooLarge is returned when a message's header exceeds
// MaxHeaderBytes.
var ErrHeaderTooLarge = fmt.Errorf("dkimsign: header larger than %d bytes", MaxHeaderBytes)

type key struct {
	selector string
	signer   crypto.Signer
}

// Signer signs messages for one domain.
type Signer struct {
	domain string
	keys   []key // Ed25519 first
}

// New makes the signer of a domain's record (as mailbox.Store.Domain reads
// it): each algorithm's oldest key, by creation time then selector. A key
// that does not parse is skipped; a domain left without keys gets
// ErrNoKeys.
func New(rec *evlog.DomainRecord) (*Signer, error) {
	s := &Signer{domain: rec.GetDomain()}
	for _, alg := range []evlog.DkimAlgorithm{evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519, evlog.DkimAlgorithm_DKIM_ALGORITHM_RSA} {
		var oldest *evlog.DkimKey
		for _, k := range rec.GetDkimKeys() {
			if k.GetAlgorithm() != alg {
				continue
			}
			if oldest == nil || k.GetCreatedUnix() < oldest.GetCreatedUnix() ||
				k.GetCreatedUnix() == oldest.GetCreatedUnix() && k.GetSelector() < oldest.GetSelector() {
				oldest = k
			}
		}
		if oldest == nil {
			continue
		}
		cs, err := domains.Signer(oldest)
		if err != nil {
			continue
		}
		s.keys = append(s.keys, key{selector: oldest.GetSelector(), signer: cs})
	}
	if len(s.keys) == 0 {
		return nil, fmt.Errorf("%w: %s", ErrNoKeys, s.domain)
	}
	return s, nil
}

// Domain is the d= of the signatures.
func (s *Signer) Domain() string { return s.domain }

// Selectors are the keys' selectors, Ed25519 first.
func (s *Signer) Selectors() []string {
	out := make([]string, 0, len(s.keys))
	for _, k := range s.keys {
		out = append(out, k.selector)
	}
	return out
}

// Start begins signing one message: write it whole (header, blank line,
// body; CRLF line ends) to the Message, then call Fields, or Abort.
func (s *Signer) Start() *Message { return &Message{s: s} }

// Message is one message being signed: an io.Writer.
type Message struct {
	s       *Signer
	header  []byte // until the header ends
	signers []*dkim.Signer
	w       io.Writer
	err     error
	done    bool
}

// Write takes the next bytes of the message.
func (m *Message) Write(p []byte) (int, error) {
	if m.err != nil {
		return 0, m.err
	}
	if m.w != nil {
		if _, err := m.w.Write(p); err != nil {
			m.fail(fmt.Errorf("dkimsign: %w", err))
			return 0, m.err
		}
		return len(p), nil
	}
	m.header = append(m.header, p...)
	end := headerEnd(m.header)
	if end < 0 {
		if len(m.header) > MaxHeaderBytes {
			m.fail(ErrHeaderTooLarge)
			return 0, m.err
		}
		return len(p), nil
	}
	if err := m.begin(end); err != nil {
		return 0, err
	}
	return len(p), nil
}

// Header is the message's header block (fields and their line ends,
// without the blank line), once Write has seen its end; nil before.
func (m *Message) Header() []byte {
	if m.w == nil {
		return nil
	}
	return m.header
}

// headerEnd is the index just past the header's last field (before the
// blank line), or -1 while it has not ended. A message starting with a
// blank line has an empty header.
func headerEnd(b []byte) int {
	if bytes.HasPrefix(b, []byte("\r\n")) || bytes.HasPrefix(b, []byte("\n")) {
		return 0
	}
	i := bytes.Index(b, []byte("\n\r\n"))
	j := bytes.Index(b, []byte("\n\n"))
	switch {
	case i >= 0 && (j < 0 || i < j):
		return i + 1
	case j >= 0:
		return j + 1
	}
	return -1
}

// begin starts the signers once the header (m.header[:end]) is known and
// feeds them what was buffered.
func (m *Message) begin(end int) error {
	buffered := m.header
	m.header = slices.Clip(buffered[:end])
	keys := signedFields(m.header)
	ws := make([]io.Writer, 0, len(m.s.keys))
	for _, k := range m.s.keys {
		sg, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: m.s.domain, Selector: k.selector, Signer: k.signer,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             keys,
		})
		if err != nil {
			m.fail(fmt.Errorf("dkimsign: %w", err))
			return m.err
		}
		m.signers = append(m.signers, sg)
		ws = append(ws, sg)
	}
	m.w = io.MultiWriter(ws...)
	if _, err := m.w.Write(buffered); err != nil {
		m.fail(fmt.Errorf("dkimsign: %w", err))
		return m.err
	}
	return nil
}

// signedFields lists the h= of a header: each present field of Fields or
// List-*, once per instance, in header order, and From once more.
func signedFields(header []byte) []string {
	var out []string
	for line := range bytes.Lines(header) {
		if len(line) == 0 || line[0] == ' ' || line[0] == '\t' {
			continue // a continuation line
		}
		name, _, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		n := strings.TrimRight(string(name), " \t")
		if slices.ContainsFunc(Fields, func(f string) bool { return strings.EqualFold(f, n) }) ||
			len(n) > 5 && strings.EqualFold(n[:5], "List-") {
			out = append(out, n)
		}
	}
	// RFC 6376 §8.15: one From more than present, so that a From added
	// later does not verify.
	return append(out, "From")
}

// Fields ends the message and returns the DKIM-Signature header fields to
// prepend, each CRLF-terminated, Ed25519 first.
func (m *Message) Fields() ([]byte, error) {
	if m.done {
		return nil, errors.New("dkimsign: Fields called twice")
	}
	if m.err == nil && m.w == nil {
		// The message ended inside its header (no body, no blank line):
		// the signers read it as if the blank line were there.
		if m.begin(len(m.header)) == nil {
			if _, err := m.w.Write([]byte("\r\n")); err != nil {
				m.fail(fmt.Errorf("dkimsign: %w", err))
			}
		}
	}
	m.done = true
	if m.err != nil {
		m.Abort()
		return nil, m.err
	}
	var out []byte
	for i, sg := range m.signers {
		if err := sg.Close(); err != nil {
			m.fail(fmt.Errorf("dkimsign: sign with %s: %w", m.s.keys[i].selector, err))
			m.Abort()
			return nil, m.err
		}
		out = append(out, sg.Signature()...)
	}
	return out, nil
}

// Abort ends the message without signatures.
func (m *Message) Abort() {
	for _, sg := range m.signers {
		_ = sg.Close()
	}
	m.signers = nil
	m.done = true
}

func (m *Message) fail(err error) {
	if m.err == nil {
		m.err = err
	}
}
