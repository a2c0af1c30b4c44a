package log

// Credential is what a session logged in with: the user's credential index
// (the log index of the event that last set the credentials, UserCreated or
// PasswordChanged) and password hash. A session compares it with the
// account's current one; any difference (a password change, the account
// deleted and created again) ends the session.
type Credential struct {
	Index uint64
	Hash  string
}

// Credential returns the user's current credentials.
func (u *UserRecord) Credential() Credential {
	return Credential{Index: u.GetCredentialIndex(), Hash: u.GetPasswordHash()}
}
