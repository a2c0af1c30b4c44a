package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/managesieve"
	"github.com/surat-mail/surat/protocols/sievestore"
)

// SieveStore keeps Sieve scripts and forwarding (*sievestore.Store has
// it). Owners are a user's canonical address, "@domain" (that domain's
// administrators' script, run before its users') or "@" (the global one).
type SieveStore interface {
	List(ctx context.Context, owner string) ([]managesieve.ScriptInfo, error)
	Get(ctx context.Context, owner, name string) ([]byte, error)
	PutScript(ctx context.Context, owner, name string, src []byte, lim managesieve.Limits, activate bool) error
	Delete(ctx context.Context, owner, name string) error
	Activate(ctx context.Context, owner, name string) error
	Limits() managesieve.Limits
	SetForwarding(ctx context.Context, user string, to []string, keep bool) error
	ForwardingTo(ctx context.Context, user string) (to []string, keep bool, err error)
}

// SieveScriptInfo is one script of GET /v1/users/{owner}/sieve.
type SieveScriptInfo struct {
	Name   string `json:"name"`
	Active bool   `json:"active"`
	Size   int64  `json:"size"`
}

// SieveListResponse is the body of GET /v1/users/{owner}/sieve.
type SieveListResponse struct {
	Scripts []SieveScriptInfo `json:"scripts"`
}

// SieveScriptResponse is the body of GET /v1/users/{owner}/sieve/{name}.
type SieveScriptResponse struct {
	SieveScriptInfo
	Script string `json:"script"`
}

// SievePutRequest is the body of PUT /v1/users/{owner}/sieve/{name}.
type SievePutRequest struct {
	Script   string `json:"script"`
	Activate bool   `json:"activate,omitempty"`
}

// ForwardRequest is the body of PUT /v1/users/{address}/forward; no
// addresses stops forwarding.
type ForwardRequest struct {
	To   []string `json:"to"`
	Keep bool     `json:"keep,omitempty"`
}

// ForwardResponse is the body of GET and PUT /v1/users/{address}/forward.
type ForwardResponse struct {
	To   []string `json:"to"`
	Keep bool     `json:"keep"`
}

// maxForwardTargets mirrors mailbox.MaxForwardAddresses (apply refuses
// more; this answers with a clear message first).
const maxForwardTargets = 16

func (s *Server) sieveRoutes(guarded func(string, http.Handler)) {
	guarded("GET /v1/users/{address}/sieve", http.HandlerFunc(s.listSieve))
	guarded("GET /v1/users/{address}/sieve/{name}", http.HandlerFunc(s.getSieve))
	guarded("PUT /v1/users/{address}/sieve/{name}", http.HandlerFunc(s.putSieve))
	guarded("DELETE /v1/users/{address}/sieve/{name}", http.HandlerFunc(s.deleteSieve))
	guarded("POST /v1/users/{address}/sieve/{name}/activate", http.HandlerFunc(s.activateSieve))
	guarded("POST /v1/users/{address}/sieve/deactivate", http.HandlerFunc(s.deactivateSieve))
	guarded("GET /v1/users/{address}/forward", http.HandlerFunc(s.getForward))
	guarded("PUT /v1/users/{address}/forward", http.HandlerFunc(s.setForward))
}

// sieveOwner is the {address} of a Sieve route in canonical form: "@",
// "@domain" or a user's address. It answers 400 or 501 itself.
func (s *Server) sieveOwner(w http.ResponseWriter, r *http.Request) (string, bool) {
	if s.cfg.Sieve == nil {
		writeError(w, http.StatusNotImplemented, "this node serves no Sieve scripts")
		return "", false
	}
	raw := strings.TrimSpace(r.PathValue("address"))
	switch {
	case raw == "@":
		return raw, true
	case strings.HasPrefix(raw, "@"):
		d, err := address.Domain(raw[1:])
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return "", false
		}
		return "@" + d, true
	}
	a, err := CanonicalAddress(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return a, true
}

func (s *Server) sieveCtx(r *http.Request) (context.Context, context.CancelFunc) {
	return context.WithTimeout(r.Context(), s.cfg.ProposeTimeout)
}

// sieveFailed answers a failed Sieve read or write: the RFC 5804 errors
// by their meaning, apply's other refusals and the cluster's failures as
// every write does.
func (s *Server) sieveFailed(w http.ResponseWriter, r *http.Request, err error, owner, what string) {
	switch {
	case errors.Is(err, sievestore.ErrInvalidName):
		writeError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, managesieve.ErrNonexistent):
		writeError(w, http.StatusNotFound, "no such script: "+what)
	case errors.Is(err, managesieve.ErrAlreadyExists):
		writeError(w, http.StatusConflict, "a script of that name exists: "+what)
	case errors.Is(err, managesieve.ErrActive):
		writeError(w, http.StatusConflict, "the script is active (deactivate it first): "+what)
	case errors.Is(err, managesieve.ErrQuotaMaxSize):
		writeError(w, http.StatusRequestEntityTooLarge, err.Error())
	case errors.Is(err, managesieve.ErrQuota):
		writeError(w, http.StatusConflict, err.Error())
	default:
		s.proposeFailed(w, r, err, owner)
	}
}

func (s *Server) listSieve(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.sieveOwner(w, r)
	if !ok {
		return
	}
	ctx, cancel := s.sieveCtx(r)
	defer cancel()
	list, err := s.cfg.Sieve.List(ctx, owner)
	if err != nil {
		s.internal(w, "list scripts", err)
		return
	}
	out := SieveListResponse{Scripts: make([]SieveScriptInfo, 0, len(list))}
	for _, i := range list {
		out.Scripts = append(out.Scripts, SieveScriptInfo{Name: i.Name, Active: i.Active, Size: i.Size})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getSieve(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.sieveOwner(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	ctx, cancel := s.sieveCtx(r)
	defer cancel()
	src, err := s.cfg.Sieve.Get(ctx, owner, name)
	if errors.Is(err, managesieve.ErrNonexistent) {
		s.sieveFailed(w, r, err, owner, name)
		return
	}
	if err != nil {
		s.internal(w, "read script", err)
		return
	}
	list, err := s.cfg.Sieve.List(ctx, owner)
	if err != nil {
		s.internal(w, "list scripts", err)
		return
	}
	active := false
	for _, i := range list {
		active = active || i.Active && i.Name == name
	}
	writeJSON(w, http.StatusOK, SieveScriptResponse{
		SieveScriptInfo: SieveScriptInfo{Name: name, Active: active, Size: int64(len(src))}, Script: string(src)})
}

// putSieve compiles the script (Config.CheckSieve) and stores it: a
// script that does not compile is answered 400 with the compiler's
// message and line, as ManageSieve's PUTSCRIPT answers NO (RFC 5804
// §2.6).
func (s *Server) putSieve(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.sieveOwner(w, r)
	if !ok {
		return
	}
	name := r.PathValue("name")
	lim := s.cfg.Sieve.Limits()
	// JSON escapes at most six bytes per octet of a script.
	limit := int64(MaxBodyBytes)
	if lim.MaxScriptBytes > 0 {
		limit = max(limit, 6*lim.MaxScriptBytes+1024)
	}
	var req SievePutRequest
	if !readJSONLimit(w, r, &req, limit) {
		return
	}
	src := []byte(req.Script)
	if !utf8.Valid(src) {
		// RFC 5228 §2.1: a script is UTF-8 (JSON carries nothing else).
		writeError(w, http.StatusBadRequest, "script is not UTF-8")
		return
	}
	// cmd/surat sets CheckSieve to protocols/sieve's Compile.
	if s.cfg.CheckSieve != nil {
		if err := s.cfg.CheckSieve(src); err != nil {
			writeError(w, http.StatusBadRequest, "script "+name+" does not compile: "+err.Error())
			return
		}
	}
	ctx, cancel := s.sieveCtx(r)
	defer cancel()
	if err := s.cfg.Sieve.PutScript(ctx, owner, name, src, lim, req.Activate); err != nil {
		s.sieveFailed(w, r, err, owner, name)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "sieve script put", "user", owner, "script", name, "size", len(src), "active", req.Activate)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteSieve(w http.ResponseWriter, r *http.Request) {
	s.changeSieve(w, r, r.PathValue("name"), "sieve script deleted", SieveStore.Delete)
}

func (s *Server) activateSieve(w http.ResponseWriter, r *http.Request) {
	s.changeSieve(w, r, r.PathValue("name"), "sieve script activated", SieveStore.Activate)
}

func (s *Server) deactivateSieve(w http.ResponseWriter, r *http.Request) {
	s.changeSieve(w, r, "", "sieve script activated", SieveStore.Activate)
}

// changeSieve makes change (a replicated write) to the script name of the
// route's owner, and answers 204 after logging msg, or the failure
// (sieveFailed).
func (s *Server) changeSieve(w http.ResponseWriter, r *http.Request, name, msg string,
	change func(st SieveStore, ctx context.Context, owner, name string) error) {
	owner, ok := s.sieveOwner(w, r)
	if !ok {
		return
	}
	ctx, cancel := s.sieveCtx(r)
	defer cancel()
	if err := change(s.cfg.Sieve, ctx, owner, name); err != nil {
		s.sieveFailed(w, r, err, owner, name)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), msg, "user", owner, "script", name)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) getForward(w http.ResponseWriter, r *http.Request) {
	owner, ok := s.sieveOwner(w, r)
	if !ok {
		return
	}
	ctx, cancel := s.sieveCtx(r)
	defer cancel()
	to, keep, err := s.cfg.Sieve.ForwardingTo(ctx, owner)
	if err != nil {
		s.internal(w, "read forwarding", err)
		return
	}
	if to == nil {
		to = []string{}
	}
	writeJSON(w, http.StatusOK, ForwardResponse{To: to, Keep: keep})
}

func (s *Server) setForward(w http.ResponseWriter, r *http.Request) {
	user, ok := s.sieveOwner(w, r)
	if !ok {
		return
	}
	if strings.HasPrefix(user, "@") {
		writeError(w, http.StatusBadRequest, "forwarding is set for a user, not "+user)
		return
	}
	var req ForwardRequest
	if !readJSON(w, r, &req) {
		return
	}
	if len(req.To) > maxForwardTargets {
		writeError(w, http.StatusBadRequest, "forwarding to more than 16 addresses")
		return
	}
	to := make([]string, 0, len(req.To))
	for _, raw := range req.To {
		a, err := address.Path(raw)
		if err != nil || a.IsZero() {
			writeError(w, http.StatusBadRequest, "forwarding address "+raw+": not an address")
			return
		}
		if a.String() == user {
			writeError(w, http.StatusBadRequest, "a user cannot forward to itself: "+raw)
			return
		}
		if !containsString(to, a.String()) {
			to = append(to, a.String())
		}
	}
	ctx, cancel := s.sieveCtx(r)
	defer cancel()
	if err := s.cfg.Sieve.SetForwarding(ctx, user, to, req.Keep && len(to) > 0); err != nil {
		s.proposeFailed(w, r, err, user)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "forwarding set", "user", user, "rcpt", strings.Join(to, ","), "keep", req.Keep)
	writeJSON(w, http.StatusOK, ForwardResponse{To: to, Keep: req.Keep && len(to) > 0})
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// SieveScripts lists owner's scripts (a user, "@domain" or "@").
func (c *Client) SieveScripts(ctx context.Context, owner string) ([]SieveScriptInfo, error) {
	var out SieveListResponse
	err := c.do(ctx, http.MethodGet, userPath(owner, "sieve"), nil, &out)
	return out.Scripts, err
}

// SieveScript returns one script with its source.
func (c *Client) SieveScript(ctx context.Context, owner, name string) (SieveScriptResponse, error) {
	var out SieveScriptResponse
	err := c.do(ctx, http.MethodGet, userPath(owner, "sieve/"+url.PathEscape(name)), nil, &out)
	return out, err
}

// PutSieveScript stores a script (the server compiles it first),
// activating it when asked.
func (c *Client) PutSieveScript(ctx context.Context, owner, name, src string, activate bool) error {
	return c.do(ctx, http.MethodPut, userPath(owner, "sieve/"+url.PathEscape(name)), SievePutRequest{Script: src, Activate: activate}, nil)
}

// DeleteSieveScript deletes a script that is not the active one.
func (c *Client) DeleteSieveScript(ctx context.Context, owner, name string) error {
	return c.do(ctx, http.MethodDelete, userPath(owner, "sieve/"+url.PathEscape(name)), nil, nil)
}

// ActivateSieveScript makes name owner's active script.
func (c *Client) ActivateSieveScript(ctx context.Context, owner, name string) error {
	return c.do(ctx, http.MethodPost, userPath(owner, "sieve/"+url.PathEscape(name)+"/activate"), nil, nil)
}

// DeactivateSieve leaves owner without an active script.
func (c *Client) DeactivateSieve(ctx context.Context, owner string) error {
	return c.do(ctx, http.MethodPost, userPath(owner, "sieve/deactivate"), nil, nil)
}

// SetForwarding forwards user's mail to addresses (none: stops), keeping a
// copy when keep.
func (c *Client) SetForwarding(ctx context.Context, user string, to []string, keep bool) (ForwardResponse, error) {
	var out ForwardResponse
	if to == nil {
		to = []string{}
	}
	err := c.do(ctx, http.MethodPut, userPath(user, "forward"), ForwardRequest{To: to, Keep: keep}, &out)
	return out, err
}

// Forwarding returns user's forwarding.
func (c *Client) Forwarding(ctx context.Context, user string) (ForwardResponse, error) {
	var out ForwardResponse
	err := c.do(ctx, http.MethodGet, userPath(user, "forward"), nil, &out)
	return out, err
}
