package admin

import "github.com/surat-mail/surat/protocols/address"

// CanonicalAddress is an account address in the one canonical form every
// protocol uses (protocols/address.Account): a dot-atom local part, an IDNA
// domain stored as its A-label, lower-case. The error text is shown to the
// API's client.
func CanonicalAddress(s string) (string, error) {
	a, err := address.Account(s)
	if err != nil {
		return "", err
	}
	return a.String(), nil
}
