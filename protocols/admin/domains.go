package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/address"
	"github.com/surat-mail/surat/protocols/domains"
	"github.com/surat-mail/surat/protocols/propose"
)

// DomainStore reads one domain with its settings and DKIM keys
// (*mailbox.Store has it). The keys' private halves stay in this package:
// no response carries them.
type DomainStore interface {
	Domain(name string) (*evlog.DomainRecord, error)
}

// DomainsResponse is the body of GET /v1/domains.
type DomainsResponse struct {
	Domains []string `json:"domains"`
}

// DkimKeyInfo is a DKIM key as the API shows it: never the private key.
type DkimKeyInfo struct {
	Selector  string    `json:"selector"`
	Algorithm string    `json:"algorithm"` // ed25519 or rsa
	Created   time.Time `json:"created"`
}

// DomainResponse is the body of GET /v1/domains/{domain} and of a
// successful POST /v1/domains or PUT /v1/domains/{domain}/settings.
type DomainResponse struct {
	Domain          string        `json:"domain"`
	DkimKeys        []DkimKeyInfo `json:"dkim_keys"`
	DMARCReportOnly bool          `json:"dmarc_report_only"`
	DMARCPolicy     string        `json:"dmarc_policy"`
	MTASTS          string        `json:"mta_sts"`        // off, testing or enforce
	CatchAll        string        `json:"catch_all"`      // the user unknown local parts reach; empty: none
	PlusFolders     bool          `json:"plus_folders"`   // user+tag@ also files into the user's mailbox tag
	PublicFolders   string        `json:"public_folders"` // the account whose mailboxes are IMAP's Shared/; empty: none
}

// AddDomainRequest is the body of POST /v1/domains.
type AddDomainRequest struct {
	Domain string `json:"domain"`
}

// DomainSettingsRequest is the body of PUT /v1/domains/{domain}/settings:
// absent fields keep their value.
type DomainSettingsRequest struct {
	DMARCReportOnly *bool   `json:"dmarc_report_only,omitempty"`
	DMARCPolicy     *string `json:"dmarc_policy,omitempty"` // none, quarantine, reject
	MTASTS          *string `json:"mta_sts,omitempty"`      // off, testing, enforce
	CatchAll        *string `json:"catch_all,omitempty"`    // a user's address; "": none
	PlusFolders     *bool   `json:"plus_folders,omitempty"`
	PublicFolders   *string `json:"public_folders,omitempty"` // a user of the domain; "": none
}

// DNSRecord is one record of GET /v1/domains/{domain}/records.
type DNSRecord struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Data string `json:"data"` // TXT: the text, unquoted
	Line string `json:"line"` // the zone-file line
}

// RecordProblem is a record the resolver does not publish as printed.
type RecordProblem struct {
	Name    string `json:"name"`
	Type    string `json:"type"`
	Problem string `json:"problem"`
}

// RecordsResponse is the body of GET /v1/domains/{domain}/records;
// Problems is there only with ?check=1.
type RecordsResponse struct {
	Records  []DNSRecord     `json:"records"`
	Checked  bool            `json:"checked"`
	Problems []RecordProblem `json:"problems,omitempty"`
}

var mtaStsModes = map[string]evlog.MtaStsMode{
	"off":     evlog.MtaStsMode_MTA_STS_MODE_OFF,
	"testing": evlog.MtaStsMode_MTA_STS_MODE_TESTING,
	"enforce": evlog.MtaStsMode_MTA_STS_MODE_ENFORCE,
}

func mtaStsName(m evlog.MtaStsMode) string {
	for name, v := range mtaStsModes {
		if v == m {
			return name
		}
	}
	return "off"
}

func domainJSON(rec *evlog.DomainRecord) DomainResponse {
	out := DomainResponse{Domain: rec.GetDomain(), DkimKeys: []DkimKeyInfo{},
		DMARCReportOnly: rec.GetDmarcReportOnly(), DMARCPolicy: rec.GetDmarcPolicy(), MTASTS: mtaStsName(rec.GetMtaStsMode()),
		CatchAll: rec.GetCatchAll(), PlusFolders: rec.GetPlusFolders(), PublicFolders: rec.GetPublicFolders()}
	if out.DMARCPolicy == "" {
		out.DMARCPolicy = domains.DefaultDMARCPolicy
	}
	for _, k := range rec.GetDkimKeys() {
		alg := "rsa"
		if k.GetAlgorithm() == evlog.DkimAlgorithm_DKIM_ALGORITHM_ED25519 {
			alg = "ed25519"
		}
		out.DkimKeys = append(out.DkimKeys, DkimKeyInfo{Selector: k.GetSelector(), Algorithm: alg,
			Created: time.Unix(k.GetCreatedUnix(), 0).UTC()})
	}
	return out
}

// pathDomain is the {domain} of the path in canonical form.
func pathDomain(w http.ResponseWriter, r *http.Request) (string, bool) {
	d, err := address.Domain(r.PathValue("domain"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return d, true
}

// loadDomain reads the domain, answering 404 or 500 itself.
func (s *Server) loadDomain(w http.ResponseWriter, d string) (*evlog.DomainRecord, bool) {
	if s.cfg.Domains == nil {
		writeError(w, http.StatusNotImplemented, "this node serves no domain details")
		return nil, false
	}
	rec, err := s.cfg.Domains.Domain(d)
	switch {
	case err != nil && s.cfg.IsNotFound(err), err == nil && rec == nil:
		writeError(w, http.StatusNotFound, "no such domain: "+d)
		return nil, false
	case err != nil:
		s.internal(w, "read domain", err)
		return nil, false
	}
	return rec, true
}

func (s *Server) listDomains(w http.ResponseWriter, _ *http.Request) {
	list, err := s.cfg.Directory.Domains()
	if err != nil {
		s.internal(w, "list domains", err)
		return
	}
	list = slices.Clone(list)
	slices.Sort(list)
	if list == nil {
		list = []string{}
	}
	writeJSON(w, http.StatusOK, DomainsResponse{Domains: list})
}

func (s *Server) getDomain(w http.ResponseWriter, r *http.Request) {
	d, ok := pathDomain(w, r)
	if !ok {
		return
	}
	if rec, ok := s.loadDomain(w, d); ok {
		writeJSON(w, http.StatusOK, domainJSON(rec))
	}
}

func (s *Server) addDomain(w http.ResponseWriter, r *http.Request) {
	var req AddDomainRequest
	if !readJSON(w, r, &req) {
		return
	}
	d, err := address.Domain(req.Domain)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	ev, err := domains.Added(d, s.cfg.Now())
	if err != nil {
		s.internal(w, "generate DKIM keys", err)
		return
	}
	err = s.submit(r.Context(), ev)
	if rejectedWith(err, evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS) {
		writeError(w, http.StatusConflict, "domain "+d+" already exists")
		return
	}
	if err != nil {
		s.domainWriteFailed(w, r, err, d)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "domain added", "domain", d, "dkim_selectors", selectorsOf(ev.GetDomainAdded().GetDkimKeys()))
	rec := &evlog.DomainRecord{Domain: d, AddedUnix: ev.GetDomainAdded().GetAddedUnix(), DkimKeys: ev.GetDomainAdded().GetDkimKeys()}
	writeJSON(w, http.StatusCreated, domainJSON(rec))
}

func selectorsOf(keys []*evlog.DkimKey) []string {
	out := make([]string, 0, len(keys))
	for _, k := range keys {
		out = append(out, k.GetSelector())
	}
	return out
}

// deleteDomain removes a domain that no user or alias uses any more: a
// domain's users are not deleted behind the operator's back (apply
// refuses with DOMAIN_IN_USE, answered 409 naming one of them).
func (s *Server) deleteDomain(w http.ResponseWriter, r *http.Request) {
	d, ok := pathDomain(w, r)
	if !ok {
		return
	}
	err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_DomainRemoved{DomainRemoved: &evlog.DomainRemoved{
		Domain: d, RefuseIfUsed: true}}})
	if err != nil {
		s.domainWriteFailed(w, r, err, d)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "domain removed", "domain", d)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) domainSettings(w http.ResponseWriter, r *http.Request) {
	d, ok := pathDomain(w, r)
	if !ok {
		return
	}
	var req DomainSettingsRequest
	if !readJSON(w, r, &req) {
		return
	}
	ch := &evlog.DomainSettingsChanged{Domain: d, DmarcReportOnly: req.DMARCReportOnly, ChangedUnix: s.cfg.Now().Unix()}
	if req.MTASTS != nil {
		m, ok := mtaStsModes[strings.ToLower(*req.MTASTS)]
		if !ok {
			writeError(w, http.StatusBadRequest, "mta_sts: want off, testing or enforce, not "+*req.MTASTS)
			return
		}
		ch.MtaStsMode = &m
	}
	if req.DMARCPolicy != nil {
		p := strings.ToLower(*req.DMARCPolicy)
		if p != "none" && p != "quarantine" && p != "reject" {
			writeError(w, http.StatusBadRequest, "dmarc_policy: want none, quarantine or reject, not "+*req.DMARCPolicy)
			return
		}
		ch.DmarcPolicy = &p
	}
	if req.CatchAll != nil {
		c := ""
		if strings.TrimSpace(*req.CatchAll) != "" {
			a, err := CanonicalAddress(*req.CatchAll)
			if err != nil {
				writeError(w, http.StatusBadRequest, "catch_all: "+err.Error())
				return
			}
			c = a
		}
		ch.CatchAll = &c
	}
	ch.PlusFolders = req.PlusFolders
	if req.PublicFolders != nil {
		c := ""
		if strings.TrimSpace(*req.PublicFolders) != "" {
			a, err := CanonicalAddress(*req.PublicFolders)
			if err != nil {
				writeError(w, http.StatusBadRequest, "public_folders: "+err.Error())
				return
			}
			c = a
		}
		ch.PublicFolders = &c
	}
	if ch.DmarcReportOnly == nil && ch.MtaStsMode == nil && ch.DmarcPolicy == nil && ch.CatchAll == nil && ch.PlusFolders == nil && ch.PublicFolders == nil {
		writeError(w, http.StatusBadRequest, "no setting given (dmarc_report_only, dmarc_policy, mta_sts, catch_all, plus_folders, public_folders)")
		return
	}
	if err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_DomainSettingsChanged{DomainSettingsChanged: ch}}); err != nil {
		s.domainWriteFailed(w, r, err, d)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "domain settings changed", "domain", d)
	if rec, ok := s.loadDomain(w, d); ok {
		writeJSON(w, http.StatusOK, domainJSON(rec))
	}
}

// rotateKeys adds a new Ed25519 and a new RSA key. The signer keeps using
// each algorithm's oldest key until it is retired, so the new records can
// be published first.
func (s *Server) rotateKeys(w http.ResponseWriter, r *http.Request) {
	d, ok := pathDomain(w, r)
	if !ok {
		return
	}
	rec, ok := s.loadDomain(w, d)
	if !ok {
		return
	}
	evs, err := domains.Rotated(rec, s.cfg.Now())
	if err != nil {
		s.internal(w, "generate DKIM keys", err)
		return
	}
	if err := s.submit(r.Context(), evs...); err != nil {
		s.domainWriteFailed(w, r, err, d)
		return
	}
	var added []*evlog.DkimKey
	for _, e := range evs {
		added = append(added, e.GetDkimKeyAdded().GetKey())
	}
	s.cfg.Logger.InfoContext(r.Context(), "DKIM keys added", "domain", d, "dkim_selectors", selectorsOf(added))
	writeJSON(w, http.StatusCreated, domainJSON(&evlog.DomainRecord{Domain: d, DkimKeys: added}))
}

func (s *Server) retireKey(w http.ResponseWriter, r *http.Request) {
	d, ok := pathDomain(w, r)
	if !ok {
		return
	}
	sel := strings.ToLower(r.PathValue("selector"))
	err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_DkimKeyRetired{DkimKeyRetired: &evlog.DkimKeyRetired{
		Domain: d, Selector: sel}}})
	if err != nil {
		s.domainWriteFailed(w, r, err, d)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "DKIM key retired", "domain", d, "dkim_selector", sel)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) domainRecords(w http.ResponseWriter, r *http.Request) {
	d, ok := pathDomain(w, r)
	if !ok {
		return
	}
	rec, ok := s.loadDomain(w, d)
	if !ok {
		return
	}
	records, err := domains.Records(rec, s.cfg.Hostname)
	if err != nil {
		s.internal(w, "records", err)
		return
	}
	out := RecordsResponse{Records: make([]DNSRecord, 0, len(records))}
	for _, rr := range records {
		out.Records = append(out.Records, DNSRecord{Name: rr.Name, Type: rr.Type, Data: rr.Data, Line: rr.String()})
	}
	if c := r.URL.Query().Get("check"); c != "" && c != "0" && c != "false" {
		if s.cfg.Resolver == nil {
			writeError(w, http.StatusServiceUnavailable, "cannot check: this node has no resolver (--resolver none)")
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.CheckTimeout)
		defer cancel()
		out.Checked = true
		for _, p := range domains.Check(ctx, s.cfg.Resolver, records) {
			out.Problems = append(out.Problems, RecordProblem{Name: p.Record.Name, Type: p.Record.Type, Problem: p.What})
		}
	}
	writeJSON(w, http.StatusOK, out)
}

// domainWriteFailed answers a refused domain write in the domain's terms.
func (s *Server) domainWriteFailed(w http.ResponseWriter, r *http.Request, err error, d string) {
	var rej *propose.RejectedError
	if errors.As(err, &rej) {
		switch rej.Code {
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN:
			writeError(w, http.StatusNotFound, "no such domain: "+d)
			return
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_DKIM_KEY:
			writeError(w, http.StatusNotFound, rej.Error())
			return
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER:
			// A catch-all or public folders account naming no user.
			writeError(w, http.StatusBadRequest, rej.Error())
			return
		case evlog.ErrorCode_ERROR_CODE_DOMAIN_IN_USE, evlog.ErrorCode_ERROR_CODE_DKIM_KEY_EXISTS:
			writeError(w, http.StatusConflict, rej.Error())
			return
		}
	}
	s.proposeFailed(w, r, err, d)
}

// Domains lists the local domains.
func (c *Client) Domains(ctx context.Context) ([]string, error) {
	var out DomainsResponse
	err := c.do(ctx, http.MethodGet, "/v1/domains", nil, &out)
	return out.Domains, err
}

// Domain returns a domain's settings and keys (public facts only).
func (c *Client) Domain(ctx context.Context, domain string) (DomainResponse, error) {
	var out DomainResponse
	err := c.do(ctx, http.MethodGet, domainPath(domain, ""), nil, &out)
	return out, err
}

// AddDomain adds a domain with new DKIM keys.
func (c *Client) AddDomain(ctx context.Context, domain string) (DomainResponse, error) {
	var out DomainResponse
	err := c.do(ctx, http.MethodPost, "/v1/domains", AddDomainRequest{Domain: domain}, &out)
	return out, err
}

// DeleteDomain removes a domain no user or alias uses.
func (c *Client) DeleteDomain(ctx context.Context, domain string) error {
	return c.do(ctx, http.MethodDelete, domainPath(domain, ""), nil, nil)
}

// DomainRecords returns the DNS records the domain needs; with check, the
// node's resolver looks each up and Problems says what is missing or wrong.
func (c *Client) DomainRecords(ctx context.Context, domain string, check bool) (RecordsResponse, error) {
	var out RecordsResponse
	p := domainPath(domain, "/records")
	if check {
		p += "?check=1"
	}
	err := c.do(ctx, http.MethodGet, p, nil, &out)
	return out, err
}

// SetDomainSettings changes the settings req names.
func (c *Client) SetDomainSettings(ctx context.Context, domain string, req DomainSettingsRequest) (DomainResponse, error) {
	var out DomainResponse
	err := c.do(ctx, http.MethodPut, domainPath(domain, "/settings"), req, &out)
	return out, err
}

// RotateDomainKeys adds a new key per algorithm and returns them.
func (c *Client) RotateDomainKeys(ctx context.Context, domain string) (DomainResponse, error) {
	var out DomainResponse
	err := c.do(ctx, http.MethodPost, domainPath(domain, "/keys"), nil, &out)
	return out, err
}

// RetireDomainKey deletes the key with selector.
func (c *Client) RetireDomainKey(ctx context.Context, domain, selector string) error {
	return c.do(ctx, http.MethodDelete, domainPath(domain, "/keys/"+url.PathEscape(selector)), nil, nil)
}

func domainPath(domain, sub string) string {
	return "/v1/domains/" + url.PathEscape(domain) + sub
}
