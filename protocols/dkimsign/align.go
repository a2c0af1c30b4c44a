package dkimsign

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"net/textproto"

	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/address"
)

// Owners maps an address to the user that owns it: a user to itself, an
// alias to its target (*mailbox.Store's ResolveAddress); an error wrapping
// mailbox.ErrNotFound for an address nobody owns.
type Owners interface {
	ResolveAddress(address string) (user string, err error)
}

// ErrNotAligned wraps every reason CheckFrom refuses a message.
var ErrNotAligned = errors.New("From not owned by the sender")

// CheckFrom reports whether every address of the header's From field
// belongs to user (a canonical address): user itself, or an alias whose
// target is user. It returns nil if so, an error wrapping ErrNotAligned
// saying why not (no From, more than one, an address that does not parse
// or that another owns), or another error when the look-up failed. The
// SMTP submission answers 553 5.7.1 to ErrNotAligned (RFC 6409 §8.1, RFC
// 3463 X.7.1) and a temporary error otherwise.
func CheckFrom(header []byte, user string, owners Owners) error {
	list, err := fromAddresses(header)
	if err != nil {
		return err
	}
	for _, addr := range list {
		if addr.String() == user {
			continue
		}
		owner, err := owners.ResolveAddress(addr.String())
		switch {
		case errors.Is(err, mailbox.ErrNotFound):
			return fmt.Errorf("%w: %s is not an address of %s", ErrNotAligned, addr, user)
		case err != nil:
			return fmt.Errorf("dkimsign: look up %s: %w", addr, err)
		case owner != user:
			return fmt.Errorf("%w: %s is not an address of %s", ErrNotAligned, addr, user)
		}
	}
	return nil
}

// fromAddresses parses the header's one From field (RFC 5322 §3.6.2) into
// canonical addresses; an error wraps ErrNotAligned.
func fromAddresses(header []byte) ([]address.Address, error) {
	tr := textproto.NewReader(bufio.NewReader(terminated(header)))
	h, err := tr.ReadMIMEHeader()
	if err != nil {
		// Strict: a field hidden behind a broken line could be a
		// second From.
		return nil, fmt.Errorf("%w: the header does not parse", ErrNotAligned)
	}
	froms := h.Values("From")
	switch len(froms) {
	case 0:
		return nil, fmt.Errorf("%w: the message has no From header field", ErrNotAligned)
	case 1:
	default:
		// RFC 5322 §3.6: exactly one From field.
		return nil, fmt.Errorf("%w: the message has %d From header fields", ErrNotAligned, len(froms))
	}
	list, err := mail.ParseAddressList(froms[0])
	if err != nil || len(list) == 0 {
		return nil, fmt.Errorf("%w: From %q does not parse", ErrNotAligned, froms[0])
	}
	out := make([]address.Address, 0, len(list))
	for _, a := range list {
		addr, err := address.Path(a.Address)
		if err != nil {
			return nil, fmt.Errorf("%w: From address %q: %v", ErrNotAligned, a.Address, err)
		}
		out = append(out, addr)
	}
	return out, nil
}

// terminated is the header followed by the blank line that ends it,
// which textproto needs to stop.
func terminated(header []byte) *bytes.Reader {
	b := make([]byte, 0, len(header)+4)
	b = append(b, header...)
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\r', '\n')
	}
	return bytes.NewReader(append(b, '\r', '\n'))
}
