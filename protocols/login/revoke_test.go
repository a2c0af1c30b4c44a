package login

import (
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
)

func passwordChanged(addr, h string) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{Address: addr, PasswordHash: h}}}
}

func userDeleted(addr string) *evlog.Event {
	return &evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: addr}}}
}

func TestBind(t *testing.T) {
	st := newStore(t)
	a := newAuth(t, Config{Directory: st})
	var bound *Binding
	publish := func(b *Binding) { bound = b }

	if err := a.Bind(alice, st.AppliedIndex(), publish); err != nil || bound == nil || bound.User != alice {
		t.Fatalf("Bind of an unchanged account: %v, bound %v", err, bound)
	}
	if err := a.Current(bound); err != nil {
		t.Fatalf("Current right after Bind: %v", err)
	}

	// Changed after the password was checked (the applied index moved
	// past before): the password may have been the old one.
	before := st.AppliedIndex()
	st.Must(t, passwordChanged(alice, hash(t, "new")))
	bound = nil
	if err := a.Bind(alice, before, publish); !errors.Is(err, ErrCredentialsChanged) || bound != nil {
		t.Fatalf("Bind after a change during login: %v, bound %v; want ErrCredentialsChanged, unbound", err, bound)
	}
	before = st.AppliedIndex()
	st.Must(t, userDeleted("bob@example.test"))
	if err := a.Bind("bob@example.test", before, publish); !errors.Is(err, ErrAccountRemoved) {
		t.Fatalf("Bind of a removed account: %v, want ErrAccountRemoved", err)
	}
}

// A change applied after Bind read the account but before the session was
// published is missed by the watcher (the session was not bound yet), so
// Bind itself must catch it.
func TestBindCatchesChangeBeforePublish(t *testing.T) {
	st := newStore(t)
	a := newAuth(t, Config{Directory: st})
	var published []*Binding
	changed := false
	publish := func(b *Binding) {
		published = append(published, b)
		if !changed {
			changed = true
			st.Must(t, passwordChanged(alice, hash(t, "changed meanwhile")))
		}
	}
	err := a.Bind(alice, st.AppliedIndex(), publish)
	if !errors.Is(err, ErrCredentialsChanged) {
		t.Fatalf("Bind: %v, want ErrCredentialsChanged", err)
	}
	if len(published) != 2 || published[1] != nil {
		t.Fatalf("published %v: want the binding, then nil", published)
	}
}

// fakeSession records its revocation.
type fakeSession struct {
	mu      sync.Mutex
	b       *Binding
	revoked chan struct{}
}

func (s *fakeSession) Binding() *Binding {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b
}

func (s *fakeSession) Revoke(b *Binding) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.b == b {
		s.b = nil
		close(s.revoked)
	}
}

func bindSession(t *testing.T, a *Authenticator, st *mailboxtest.Store, user string) *fakeSession {
	t.Helper()
	s := &fakeSession{revoked: make(chan struct{})}
	if err := a.Bind(user, st.AppliedIndex(), func(b *Binding) { s.b = b }); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestWatchRevocations(t *testing.T) {
	st := newStore(t)
	a := newAuth(t, Config{Directory: st})
	const carol = "carol@example.test"
	st.Must(t, &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: carol, PasswordHash: hash(t, "carol"), CreatedUnix: 1_700_000_000}}})
	aliceSession := bindSession(t, a, st, alice)
	carolSession := bindSession(t, a, st, carol)
	idle := &fakeSession{} // not logged in
	sessions := []*fakeSession{aliceSession, carolSession, idle}
	r := WatchRevocations(a, st, func() []*fakeSession { return sessions }, slog.New(slog.DiscardHandler))
	defer r.Close()

	revokedWithin := func(s *fakeSession, what string) {
		t.Helper()
		select {
		case <-s.revoked:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: session not revoked", what)
		}
	}
	// Same hash: only the credential_index moves, and that is enough.
	u, err := st.User(alice)
	if err != nil {
		t.Fatal(err)
	}
	st.Must(t, passwordChanged(alice, u.GetPasswordHash()))
	revokedWithin(aliceSession, "password change")
	if carolSession.Binding() == nil {
		t.Fatal("another user's session revoked")
	}
	st.Must(t, userDeleted(carol))
	revokedWithin(carolSession, "user deleted")
}
