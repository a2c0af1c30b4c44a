package sievestore

import (
	"context"
	"errors"
	"fmt"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/managesieve"
	"github.com/surat-mail/surat/protocols/propose"
)

// Reader is the projection's Sieve side (*mailbox.Store has it).
type Reader interface {
	SieveScripts(owner string) ([]mailbox.SieveScriptInfo, error)
	SieveScriptNamed(owner, name string) (*mailbox.SieveScript, error)
	ForwardingOf(user string) (mailbox.Forwarding, bool, error)
}

// Default limits of one owner's scripts (the plan's and Pigeonhole's
// order of magnitude): 32 scripts of at most 64 KiB each.
const (
	DefaultMaxScripts     = 32
	DefaultMaxScriptBytes = 64 << 10
)

// DefaultLimits are the limits when Config.Limits is zero.
func DefaultLimits() managesieve.Limits {
	return managesieve.Limits{MaxScripts: DefaultMaxScripts, MaxScriptBytes: DefaultMaxScriptBytes}
}

// Config wires a Store. Reader and Proposer are required.
type Config struct {
	Reader   Reader
	Proposer propose.Proposer
	// Limits apply to the writes that pass none (the admin API's);
	// zero: DefaultLimits.
	Limits managesieve.Limits
	// Now stamps put_unix; defaults to time.Now.
	Now func() time.Time
}

// ErrInvalidName: a script name RFC 5804 §1.6 does not allow (empty,
// too long, not UTF-8, a control character).
var ErrInvalidName = errors.New("sievestore: invalid script name")

// Store reads and writes Sieve state; safe for concurrent use.
type Store struct {
	cfg Config
}

var _ managesieve.Scripts = (*Store)(nil)

// New returns a Store.
func New(cfg Config) (*Store, error) {
	if cfg.Reader == nil || cfg.Proposer == nil {
		return nil, errors.New("sievestore: Reader and Proposer are required")
	}
	if cfg.Limits == (managesieve.Limits{}) {
		cfg.Limits = DefaultLimits()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &Store{cfg: cfg}, nil
}

// Limits are the limits writes without their own use.
func (s *Store) Limits() managesieve.Limits { return s.cfg.Limits }

// List returns owner's scripts sorted by name.
func (s *Store) List(ctx context.Context, owner string) ([]managesieve.ScriptInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	list, err := s.cfg.Reader.SieveScripts(owner)
	if err != nil {
		return nil, fmt.Errorf("sievestore: list %s: %w", owner, err)
	}
	out := make([]managesieve.ScriptInfo, 0, len(list))
	for _, i := range list {
		out = append(out, managesieve.ScriptInfo{Name: i.Name, Active: i.Active, Size: i.Size})
	}
	return out, nil
}

// Get returns a script's source; managesieve.ErrNonexistent when missing.
func (s *Store) Get(ctx context.Context, owner, name string) ([]byte, error) {
	sc, err := s.Script(ctx, owner, name)
	if err != nil {
		return nil, err
	}
	return sc.Source, nil
}

// Script returns a script with its metadata; managesieve.ErrNonexistent
// when missing.
func (s *Store) Script(ctx context.Context, owner, name string) (*mailbox.SieveScript, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	sc, err := s.cfg.Reader.SieveScriptNamed(owner, name)
	if errors.Is(err, mailbox.ErrNotFound) {
		return nil, fmt.Errorf("%w: %q", managesieve.ErrNonexistent, name)
	}
	if err != nil {
		return nil, fmt.Errorf("sievestore: get %q of %s: %w", name, owner, err)
	}
	return sc, nil
}

// Put creates or replaces a script (an active one stays active), within
// lim (zero fields: no limit).
func (s *Store) Put(ctx context.Context, owner, name string, src []byte, lim managesieve.Limits) error {
	return s.PutScript(ctx, owner, name, src, lim, false)
}

// PutScript is Put that can also activate the script, in the same event
// (`surat sieve put --activate`).
func (s *Store) PutScript(ctx context.Context, owner, name string, src []byte, lim managesieve.Limits, activate bool) error {
	if err := mailbox.CheckSieveName(name); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidName, err)
	}
	if lim.MaxScriptBytes > 0 && int64(len(src)) > lim.MaxScriptBytes {
		return fmt.Errorf("%w: %d octets, at most %d", managesieve.ErrQuotaMaxSize, len(src), lim.MaxScriptBytes)
	}
	e := &evlog.SieveScriptPut{Owner: owner, Name: name, Script: src, PutUnix: s.cfg.Now().Unix(),
		MaxBytes: uint64(max(lim.MaxScriptBytes, 0)), MaxScripts: uint32(max(lim.MaxScripts, 0)), Activate: activate}
	err := s.submit(ctx, &evlog.Event{Kind: &evlog.Event_SieveScriptPut{SieveScriptPut: e}})
	if propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_SCRIPT_QUOTA) {
		// Size was checked above against the same limit, so apply's
		// SCRIPT_QUOTA is the count (or apply's own hard bound on size).
		if lim.MaxScriptBytes == 0 && len(src) > mailbox.MaxSieveScriptBytes {
			return fmt.Errorf("%w: %v", managesieve.ErrQuotaMaxSize, err)
		}
		return fmt.Errorf("%w: %v", managesieve.ErrQuotaMaxScripts, err)
	}
	return err
}

// Delete removes a script: ErrNonexistent, or ErrActive for the active
// one.
func (s *Store) Delete(ctx context.Context, owner, name string) error {
	return s.submit(ctx, &evlog.Event{Kind: &evlog.Event_SieveScriptDeleted{SieveScriptDeleted: &evlog.SieveScriptDeleted{
		Owner: owner, Name: name}}})
}

// Rename renames a script, keeping it active if it was.
func (s *Store) Rename(ctx context.Context, owner, oldName, newName string) error {
	if err := mailbox.CheckSieveName(newName); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidName, err)
	}
	return s.submit(ctx, &evlog.Event{Kind: &evlog.Event_SieveScriptRenamed{SieveScriptRenamed: &evlog.SieveScriptRenamed{
		Owner: owner, Name: oldName, NewName: newName}}})
}

// Activate makes name the active script; "" deactivates.
func (s *Store) Activate(ctx context.Context, owner, name string) error {
	return s.submit(ctx, &evlog.Event{Kind: &evlog.Event_SieveScriptActivated{SieveScriptActivated: &evlog.SieveScriptActivated{
		Owner: owner, Name: name}}})
}

// SetForwarding sets user's forwarding (`surat user forward`); no
// addresses clears it. Addresses must be canonical (protocols/address).
func (s *Store) SetForwarding(ctx context.Context, user string, to []string, keep bool) error {
	return s.submit(ctx, &evlog.Event{Kind: &evlog.Event_ForwardingSet{ForwardingSet: &evlog.ForwardingSet{
		User: user, Addresses: to, Keep: keep}}})
}

// ForwardingTo is Forwarding as plain values (no addresses: none set).
func (s *Store) ForwardingTo(ctx context.Context, user string) (to []string, keep bool, err error) {
	f, _, err := s.Forwarding(ctx, user)
	return f.Addresses, f.Keep, err
}

// Forwarding returns user's forwarding; ok is false when none is set.
func (s *Store) Forwarding(ctx context.Context, user string) (f mailbox.Forwarding, ok bool, err error) {
	if err := ctx.Err(); err != nil {
		return f, false, err
	}
	f, ok, err = s.cfg.Reader.ForwardingOf(user)
	if err != nil {
		return f, false, fmt.Errorf("sievestore: forwarding of %s: %w", user, err)
	}
	return f, ok, nil
}

// submit proposes one event and maps apply's Sieve refusals to the
// managesieve errors; every other error is returned as it is (wrapped),
// so callers can still tell a cluster failure (temporary) or another
// refusal (propose.RejectedError) apart.
func (s *Store) submit(ctx context.Context, ev *evlog.Event) error {
	_, err := propose.Submit(ctx, s.cfg.Proposer, ev)
	if err == nil {
		return nil
	}
	var sentinel error
	switch propose.Code(err) {
	case evlog.ErrorCode_ERROR_CODE_NO_SUCH_SCRIPT:
		sentinel = managesieve.ErrNonexistent
	case evlog.ErrorCode_ERROR_CODE_SCRIPT_EXISTS:
		sentinel = managesieve.ErrAlreadyExists
	case evlog.ErrorCode_ERROR_CODE_SCRIPT_ACTIVE:
		sentinel = managesieve.ErrActive
	case evlog.ErrorCode_ERROR_CODE_SCRIPT_QUOTA:
		sentinel = managesieve.ErrQuota
	default:
		return fmt.Errorf("sievestore: %w", err)
	}
	// Both the sentinel (for the RFC 5804 code) and the refusal (for
	// propose.Code) stay in the chain.
	return fmt.Errorf("%w: %w", sentinel, err)
}
