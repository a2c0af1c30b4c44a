package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// ACLs reads mailboxes and their access control lists (mailbox.Store
// has both): ErrNotFound-like errors (Config.IsNotFound) for a mailbox
// that does not exist.
type ACLs interface {
	MailboxByName(address, name string) (*evlog.MailboxRecord, error)
	ACL(mailboxID uint64) (owner string, entries []acl.Entry, err error)
}

// ACLEntry is one identifier's rights (RFC 4314): rights in the
// canonical form ("lrs"), identifier "anyone", "authenticated" or an
// address, "-" first for negative rights.
type ACLEntry struct {
	Identifier string `json:"identifier"`
	Rights     string `json:"rights"`
}

// ACLResponse is the body of GET and PUT /v1/users/{address}/acl: the
// mailbox's ACL, without its owner's rights (all of them, always).
type ACLResponse struct {
	Owner   string     `json:"owner"`
	Mailbox string     `json:"mailbox"`
	Entries []ACLEntry `json:"entries"`
}

// ACLRequest is the body of PUT /v1/users/{address}/acl: rights is as
// IMAP's SETACL takes it ("lrs" replaces, "+w" adds, "-w" removes; empty
// takes the identifier out of the ACL).
type ACLRequest struct {
	Mailbox    string `json:"mailbox"`
	Identifier string `json:"identifier"`
	Rights     string `json:"rights"`
}

func (s *Server) aclRoutes(guarded func(string, http.Handler)) {
	guarded("GET /v1/users/{address}/acl", http.HandlerFunc(s.getACL))
	guarded("PUT /v1/users/{address}/acl", http.HandlerFunc(s.setACL))
}

// aclMailbox resolves the route's user and mailbox name; it answers 400,
// 404 or 501 itself.
func (s *Server) aclMailbox(w http.ResponseWriter, name string, r *http.Request) (*evlog.MailboxRecord, bool) {
	if s.cfg.ACLs == nil {
		writeError(w, http.StatusNotImplemented, "this node serves no ACLs")
		return nil, false
	}
	owner, err := CanonicalAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return nil, false
	}
	if name == "" {
		writeError(w, http.StatusBadRequest, "no mailbox named")
		return nil, false
	}
	mb, err := s.cfg.ACLs.MailboxByName(owner, name)
	switch {
	case err != nil && s.cfg.IsNotFound(err):
		writeError(w, http.StatusNotFound, "no mailbox "+name+" of "+owner)
		return nil, false
	case err != nil:
		s.internal(w, "read mailbox", err)
		return nil, false
	}
	return mb, true
}

func (s *Server) writeACL(w http.ResponseWriter, mb *evlog.MailboxRecord) {
	owner, entries, err := s.cfg.ACLs.ACL(mb.GetId())
	if err != nil {
		s.internal(w, "read ACL", err)
		return
	}
	out := ACLResponse{Owner: owner, Mailbox: mb.GetName(), Entries: make([]ACLEntry, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, ACLEntry{Identifier: e.Identifier, Rights: e.Rights.String()})
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) getACL(w http.ResponseWriter, r *http.Request) {
	mb, ok := s.aclMailbox(w, r.URL.Query().Get("mailbox"), r)
	if ok {
		s.writeACL(w, mb)
	}
}

// setACL proposes AclSet as an administrator (no actor: apply checks no
// right) and answers with the ACL that results.
func (s *Server) setACL(w http.ResponseWriter, r *http.Request) {
	var req ACLRequest
	if !readJSON(w, r, &req) {
		return
	}
	mb, ok := s.aclMailbox(w, req.Mailbox, r)
	if !ok {
		return
	}
	ident, err := acl.CanonicalIdentifier(strings.TrimSpace(req.Identifier))
	if err != nil {
		writeError(w, http.StatusBadRequest, "identifier "+req.Identifier+": anyone, authenticated or an address, - first for negative rights")
		return
	}
	if _, _, err := acl.ParseModification(req.Rights); err != nil {
		// RFC 4314 §3.1: an unknown right is refused, never ignored.
		writeError(w, http.StatusBadRequest, "rights "+req.Rights+": "+strings.TrimPrefix(err.Error(), "acl: ")+" (RFC 4314: lrswipkxtea, +/- to add or remove)")
		return
	}
	err = s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_AclSet{AclSet: &evlog.AclSet{
		Owner: mb.GetAddress(), MailboxId: mb.GetId(), Identifier: ident, Rights: req.Rights}}})
	if err != nil {
		if rejectedWith(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER) {
			name, _ := acl.Negative(ident)
			writeError(w, http.StatusNotFound, "no such user: "+name)
			return
		}
		if rejectedWith(err, evlog.ErrorCode_ERROR_CODE_ACL_LIMIT) {
			writeError(w, http.StatusConflict, err.Error())
			return
		}
		s.proposeFailed(w, r, err, mb.GetAddress())
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "acl set", "user", mb.GetAddress(), "mailbox", mb.GetName(), "identifier", ident, "rights", req.Rights)
	s.writeACL(w, mb)
}

// ACL returns the ACL of owner's mailbox.
func (c *Client) ACL(ctx context.Context, owner, mailbox string) (ACLResponse, error) {
	var out ACLResponse
	err := c.do(ctx, http.MethodGet, userPath(owner, "acl?mailbox="+url.QueryEscape(mailbox)), nil, &out)
	return out, err
}

// SetACL changes identifier's rights on owner's mailbox as IMAP's SETACL
// does (empty rights: DELETEACL) and returns the ACL that results.
func (c *Client) SetACL(ctx context.Context, owner, mailbox, identifier, rights string) (ACLResponse, error) {
	var out ACLResponse
	err := c.do(ctx, http.MethodPut, userPath(owner, "acl"), ACLRequest{Mailbox: mailbox, Identifier: identifier, Rights: rights}, &out)
	return out, err
}
