package managesieve

import (
	"context"
	"errors"
)

// Scripts is the storage a ManageSieve session needs: one owner's Sieve
// scripts and which of them is active. The owner is the logged-in user's
// canonical address (protocols/address); ManageSieve never names the
// administrators' "@domain" and "@" owners.
//
// protocols/sievestore implements it over the replicated store: reads come
// from the node's projection (package mailbox), writes are events
// (SieveScriptPut, SieveScriptDeleted, SieveScriptRenamed,
// SieveScriptActivated) proposed through the cluster. A write returns nil
// only once its event is committed and applied on this node, so that the
// session's next command (and every later read on this node) sees it
// (docs/DESIGN.md invariant 1: ack after commit).
//
// Errors: the sentinels below (wrapped or not) carry their RFC 5804 §1.3
// response code to the client; any other error is answered NO (TRYLATER),
// never as a permanent refusal, and logged.
type Scripts interface {
	// List returns the owner's scripts sorted by name; at most one is
	// Active. No scripts: an empty list and nil.
	List(ctx context.Context, owner string) ([]ScriptInfo, error)
	// Get returns a script's source; ErrNonexistent when there is none of
	// that name.
	Get(ctx context.Context, owner, name string) ([]byte, error)
	// Put creates the script or replaces the one of that name (an active
	// script stays active). src was checked already (Server.Check). lim
	// are the limits the server advertises (HAVESPACE): the store
	// enforces them where the write is decided (the event's max_scripts
	// and max_bytes), answering ErrQuotaMaxScripts or ErrQuotaMaxSize.
	Put(ctx context.Context, owner, name string, src []byte, lim Limits) error
	// Delete removes a script: ErrNonexistent when missing, ErrActive for
	// the active one (RFC 5804 §2.10).
	Delete(ctx context.Context, owner, name string) error
	// Rename renames a script, keeping it active if it was:
	// ErrNonexistent when oldName is missing, ErrAlreadyExists when
	// newName is taken (RFC 5804 §2.11.1).
	Rename(ctx context.Context, owner, oldName, newName string) error
	// Activate makes name the active script, deactivating any other;
	// name "" deactivates the active script, if any (RFC 5804 §2.8).
	// ErrNonexistent when there is no script of that name.
	Activate(ctx context.Context, owner, name string) error
}

// ScriptInfo is one entry of List.
type ScriptInfo struct {
	Name   string
	Active bool
	Size   int64 // octets of the source
}

// Limits bound one owner's scripts (PLAN: ≤ 32 scripts of ≤ 64 KiB each
// by default). Zero means no limit.
type Limits struct {
	MaxScripts     int   // scripts per owner (QUOTA/MAXSCRIPTS)
	MaxScriptBytes int64 // octets per script (QUOTA/MAXSIZE)
}

// Errors a Scripts implementation returns, each mapped to its RFC 5804
// §1.3 response code. Test with errors.Is.
var (
	// ErrNonexistent: no script of that name (NONEXISTENT).
	ErrNonexistent = errors.New("managesieve: no such script")
	// ErrAlreadyExists: RENAMESCRIPT to a name in use (ALREADYEXISTS).
	ErrAlreadyExists = errors.New("managesieve: a script of that name exists")
	// ErrActive: DELETESCRIPT of the active script (ACTIVE).
	ErrActive = errors.New("managesieve: the script is active")
	// ErrQuota: over a quota the store cannot name more precisely
	// (QUOTA). ErrQuotaMaxScripts and ErrQuotaMaxSize wrap it.
	ErrQuota = errors.New("managesieve: over quota")
	// ErrQuotaMaxScripts: too many scripts (QUOTA/MAXSCRIPTS).
	ErrQuotaMaxScripts = quotaError("managesieve: too many scripts")
	// ErrQuotaMaxSize: the script is too large (QUOTA/MAXSIZE).
	ErrQuotaMaxSize = quotaError("managesieve: script too large")
	// ErrTryLater: a temporary failure, such as no quorum (TRYLATER).
	// Any error that is none of these is answered the same way.
	ErrTryLater = errors.New("managesieve: temporary failure, try later")
)

// quotaError is a specific quota error that also matches ErrQuota.
type quotaError string

func (e quotaError) Error() string { return string(e) }

// Is makes errors.Is(ErrQuotaMaxSize, ErrQuota) true.
func (e quotaError) Is(target error) bool { return target == ErrQuota }
