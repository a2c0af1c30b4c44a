package sievestore

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/mailbox/mailboxtest"
	"github.com/surat-mail/surat/protocols/managesieve"
	"github.com/surat-mail/surat/protocols/propose"
)

const user = "ann@example.org"

func newStore(t *testing.T) (*Store, *mailboxtest.Store) {
	t.Helper()
	ms := mailboxtest.Open(t)
	ms.Must(t, &evlog.Event{Kind: &evlog.Event_DomainAdded{DomainAdded: &evlog.DomainAdded{Domain: "example.org"}}},
		&evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{Address: user, CreatedUnix: 1}}})
	s, err := New(Config{Reader: ms.Store, Proposer: ms, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return s, ms
}

// TestScriptsLifecycle drives the managesieve.Scripts methods as a
// ManageSieve session would and checks the RFC 5804 errors.
func TestScriptsLifecycle(t *testing.T) {
	ctx := context.Background()
	s, ms := newStore(t)
	lim := managesieve.Limits{MaxScripts: 2, MaxScriptBytes: 64}
	if list, err := s.List(ctx, user); err != nil || len(list) != 0 {
		t.Fatalf("empty list: %v, %v", list, err)
	}
	if err := s.Put(ctx, user, "one", []byte("keep;"), lim); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, user, "two", []byte("discard;"), lim); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, user, "three", []byte("keep;"), lim); !errors.Is(err, managesieve.ErrQuotaMaxScripts) || !errors.Is(err, managesieve.ErrQuota) {
		t.Fatalf("third script: %v", err)
	}
	if err := s.Put(ctx, user, "one", []byte(strings.Repeat("#", 65)), lim); !errors.Is(err, managesieve.ErrQuotaMaxSize) {
		t.Fatalf("large script: %v", err)
	}
	if err := s.Activate(ctx, user, "one"); err != nil {
		t.Fatal(err)
	}
	list, err := s.List(ctx, user)
	if err != nil || len(list) != 2 || list[0] != (managesieve.ScriptInfo{Name: "one", Active: true, Size: 5}) || list[1].Active {
		t.Fatalf("list %+v, %v", list, err)
	}
	if src, err := s.Get(ctx, user, "two"); err != nil || string(src) != "discard;" {
		t.Fatalf("get %q, %v", src, err)
	}
	if _, err := s.Get(ctx, user, "nope"); !errors.Is(err, managesieve.ErrNonexistent) {
		t.Fatalf("get missing: %v", err)
	}
	if err := s.Delete(ctx, user, "one"); !errors.Is(err, managesieve.ErrActive) {
		t.Fatalf("delete active: %v", err)
	}
	if err := s.Delete(ctx, user, "nope"); !errors.Is(err, managesieve.ErrNonexistent) {
		t.Fatalf("delete missing: %v", err)
	}
	if err := s.Rename(ctx, user, "one", "two"); !errors.Is(err, managesieve.ErrAlreadyExists) {
		t.Fatalf("rename onto another: %v", err)
	}
	if err := s.Rename(ctx, user, "nope", "x"); !errors.Is(err, managesieve.ErrNonexistent) {
		t.Fatalf("rename missing: %v", err)
	}
	if err := s.Rename(ctx, user, "one", "uno"); err != nil {
		t.Fatal(err)
	}
	if err := s.Activate(ctx, user, "nope"); !errors.Is(err, managesieve.ErrNonexistent) {
		t.Fatalf("activate missing: %v", err)
	}
	d, err := ms.Store.ScriptsForDelivery(user)
	if err != nil || d.User == nil || d.User.Name != "uno" || string(d.User.Source) != "keep;" {
		t.Fatalf("delivery scripts %+v, %v", d, err)
	}
	if err := s.Activate(ctx, user, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.Delete(ctx, user, "uno"); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(ctx, "nobody@example.org", "x", []byte("keep;"), lim); propose.Code(err) != evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER {
		t.Fatalf("no such user: %v", err)
	}
	if err := s.Put(ctx, user, "bad\x00name", []byte("keep;"), lim); err == nil {
		t.Fatal("a name with NUL was accepted")
	}
}

// TestAdministratorsScripts: "@domain" and "@" owners through the same
// store, put and activated in one event, run before the user's.
func TestAdministratorsScripts(t *testing.T) {
	ctx := context.Background()
	s, ms := newStore(t)
	if err := s.PutScript(ctx, mailbox.GlobalSieveOwner, "g", []byte("keep;"), s.Limits(), true); err != nil {
		t.Fatal(err)
	}
	if err := s.PutScript(ctx, mailbox.DomainSieveOwner("example.org"), "d", []byte("keep;"), s.Limits(), true); err != nil {
		t.Fatal(err)
	}
	// As the delivery filter reads them (protocols/sieve/filter).
	d, err := ms.Store.ScriptsForDelivery(user)
	if err != nil || len(d.Before()) != 2 || d.Before()[0].Name != "g" || d.Before()[1].Name != "d" || d.User != nil {
		t.Fatalf("delivery scripts %+v, %v", d, err)
	}
	if src, err := s.Get(ctx, mailbox.GlobalSieveOwner, "g"); err != nil || string(src) != "keep;" {
		t.Fatalf("global script %q, %v", src, err)
	}
	if _, err := s.Get(ctx, user, "g"); !errors.Is(err, managesieve.ErrNonexistent) {
		t.Fatalf("the user's script of a global name: %v", err)
	}
}

func TestForwardingAndRecords(t *testing.T) {
	ctx := context.Background()
	s, ms := newStore(t)
	if err := s.SetForwarding(ctx, user, []string{"x@remote.test"}, true); err != nil {
		t.Fatal(err)
	}
	f, ok, err := s.Forwarding(ctx, user)
	if err != nil || !ok || !f.Keep || len(f.Addresses) != 1 {
		t.Fatalf("forwarding %+v %v %v", f, ok, err)
	}
	if err := s.SetForwarding(ctx, user, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.Forwarding(ctx, user); ok {
		t.Fatal("forwarding not cleared")
	}
	now := time.Unix(1_800_000_000, 0)
	ms.Must(t, &evlog.Event{Kind: &evlog.Event_DuplicateRecorded{DuplicateRecorded: &evlog.DuplicateRecorded{
		User: user, Ids: [][]byte{[]byte("id")}, SeenUnix: now.Unix(), ExpiresUnix: now.Unix() + 60}}},
		&evlog.Event{Kind: &evlog.Event_SrsKeyAdded{SrsKeyAdded: &evlog.SrsKeyAdded{Key: make([]byte, 32), AddedUnix: 1}}})
	if ok, err := ms.Store.DuplicateSeen(user, []byte("id"), now); err != nil || !ok {
		t.Fatalf("duplicate %v %v", ok, err)
	}
	if ok, err := ms.Store.VacationRunning(user, "", "s@remote.test", now); err != nil || ok {
		t.Fatalf("vacation %v %v", ok, err)
	}
	if keys, err := ms.Store.SRSKeys(); err != nil || len(keys) != 1 {
		t.Fatalf("keys %d %v", len(keys), err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.List(cctx, user); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled read: %v", err)
	}
}
