package login

import (
	"bytes"

	"github.com/surat-mail/surat/protocols/address"
)

// PlainCredentials reads a decoded SASL PLAIN message (RFC 4616 §2:
// [authzid] NUL authcid NUL passwd) for the protocols that parse SASL
// themselves (POP3 AUTH, ManageSieve AUTHENTICATE). A malformed message,
// or one asking to act as another account (an authorization identity
// other than the authentication identity's account, which Surat does not
// support), gives an empty name and password: a failure like any other
// when handed to Conn.Login.
func PlainCredentials(msg []byte) (name, password string) {
	parts := bytes.Split(msg, []byte{0})
	if len(parts) != 3 || len(parts[1]) == 0 {
		return "", ""
	}
	authz, authc := string(parts[0]), string(parts[1])
	if authz != "" && !sameAccount(authz, authc) {
		return "", ""
	}
	return authc, string(parts[2])
}

// sameAccount reports whether two names are one account.
func sameAccount(a, b string) bool {
	x, errA := address.Account(a)
	y, errB := address.Account(b)
	return errA == nil && errB == nil && x == y
}
