package login

import (
	"errors"
	"fmt"
	"log/slog"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
)

// Revocation. A logged-in session is bound to the credentials it logged in
// with (a Binding): the user's credential_index (the log index of the
// event that last set them, UserCreated or PasswordChanged) and password
// hash. A password change or a deletion through any node moves them, so
// the session is ended in its protocol's own way (IMAP BYE, POP3 close,
// SMTP 421). A user deleted and created again has a new credential_index,
// so no old session survives it. IMAP and POP3 learn of changes from the
// change feed (WatchRevocations); SMTP submission checks the binding at
// each transaction command (Current).

// ErrCredentialsChanged refuses a login whose account changed or went
// while the password was being checked: the password may have been the
// old one.
var ErrCredentialsChanged = errors.New("login: credentials changed during login")

// ErrAccountRemoved refuses a login whose account was removed while the
// password was being checked.
var ErrAccountRemoved = errors.New("login: account removed during login")

// Binding is the account a session logged in as and the credentials it
// used.
type Binding struct {
	User string
	evlog.Credential
}

// Bind binds a session that just logged in as user. before is the
// store's applied index read before the password was checked: credentials
// set after it may have replaced the ones the password matched
// (ErrCredentialsChanged). publish stores the binding where the session's
// revocation watcher looks; the account is then read once more, so that a
// change applied at any moment is caught either here or by the watcher
// (which skips a session not yet bound). When Bind fails after publish,
// it calls publish(nil). Errors other than the two above mean the account
// could not be read (a temporary failure).
func (a *Authenticator) Bind(user string, before uint64, publish func(*Binding)) error {
	u, err := a.cfg.Directory.User(user)
	switch {
	case err != nil && a.cfg.IsNotFound(err):
		return ErrAccountRemoved
	case err != nil:
		return fmt.Errorf("login: read user: %w", err)
	case u.GetCredentialIndex() > before:
		return ErrCredentialsChanged
	}
	b := &Binding{User: user, Credential: u.Credential()}
	publish(b)
	if err := a.Current(b); err != nil {
		publish(nil)
		if errors.Is(err, ErrRevoked) {
			return ErrCredentialsChanged
		}
		return err
	}
	return nil
}

// ErrRevoked: the account of a binding is gone or has other credentials.
var ErrRevoked = errors.New("login: credentials changed or account removed")

// Current returns nil when b's credentials are still its account's,
// ErrRevoked when they are not, another error when the account could not
// be read.
func (a *Authenticator) Current(b *Binding) error {
	u, err := a.cfg.Directory.User(b.User)
	switch {
	case err != nil && a.cfg.IsNotFound(err):
		return ErrRevoked
	case err != nil:
		return fmt.Errorf("login: read user: %w", err)
	case u.Credential() != b.Credential:
		return ErrRevoked
	}
	return nil
}

// Feed is the change feed revocations follow (*mailbox.Store has it).
type Feed interface {
	Subscribe(address string) *mailbox.Subscription
}

// Session is a logged-in session as a revocation watcher sees it.
type Session interface {
	// Binding is what the session is bound to now; nil when it is not
	// logged in, or was revoked.
	Binding() *Binding
	// Revoke ends the session in its protocol's way if it is still bound
	// to b (a compare-and-swap, so a session is revoked once).
	Revoke(b *Binding)
}

// Revocations follows the change feed and revokes the sessions whose
// credentials are no longer their account's.
type Revocations struct {
	sub  *mailbox.Subscription
	done chan struct{}
}

// WatchRevocations starts following feed on a subscription of its own:
// on every UserChanged it checks the sessions bound to that user, on a
// Reset (changes were missed) every session. sessions lists a protocol's
// live sessions; log (the protocol's) gets the failures to read an
// account. Close stops it.
func WatchRevocations[S Session](a *Authenticator, feed Feed, sessions func() []S, log *slog.Logger) *Revocations {
	r := &Revocations{sub: feed.Subscribe(""), done: make(chan struct{})}
	go func() {
		defer close(r.done)
		for c := range r.sub.C {
			switch c.Kind {
			case mailbox.UserChanged:
				revokeStale(a, c.Address, sessions(), log)
			case mailbox.Reset:
				revokeStale(a, "", sessions(), log)
			}
		}
	}()
	return r
}

// Close ends the subscription and waits for the watcher to stop.
func (r *Revocations) Close() {
	r.sub.Close()
	<-r.done
}

// revokeStale revokes the sessions of user (every user when empty) whose
// credentials are no longer the account's.
func revokeStale[S Session](a *Authenticator, user string, sessions []S, log *slog.Logger) {
	for _, s := range sessions {
		b := s.Binding()
		if b == nil || (user != "" && b.User != user) {
			continue
		}
		switch err := a.Current(b); {
		case errors.Is(err, ErrRevoked):
			s.Revoke(b)
		case err != nil:
			log.Warn("revocation check failed", "user", b.User, "err", err)
		}
	}
}
