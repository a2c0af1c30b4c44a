package admin

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/auth"
	"github.com/surat-mail/surat/protocols/domains"
)

// Directory is the read side the API needs (mailbox.Store has it).
type Directory interface {
	Users() ([]string, error)
	User(address string) (*evlog.UserRecord, error)
	Domains() ([]string, error)
}

// Digester reports the projection digest (mailbox.Store has it).
type Digester interface {
	Digest() (appliedIndex uint64, digest [32]byte, err error)
}

// Cluster is what the API needs from the local cluster node.
type Cluster interface {
	Status(ctx context.Context) cluster.Status
	Ready() bool
	Propose(ctx context.Context, proposal []byte) ([]byte, error)
}

// Config wires a Server. Directory, Digester and Cluster are required.
type Config struct {
	Directory Directory
	Digester  Digester
	Cluster   Cluster
	// Queue serves /v1/queue; nil: an empty queue.
	Queue Queue
	// Bans serves GET /v1/bans; nil: an empty list (adding and removing
	// bans only propose).
	Bans BanList
	// Reports serves /v1/dmarc/...; nil: empty lists.
	Reports Reports
	// Spam serves /v1/spam/...; nil: those answer 501.
	Spam SpamModels
	// Sieve serves /v1/users/{address}/sieve... and .../forward; nil:
	// those answer 501.
	Sieve SieveStore
	// ACLs serves /v1/users/{address}/acl; nil: it answers 501.
	ACLs ACLs
	// CheckSieve compiles a script before PUT stores it (the error,
	// with its line number, is answered 400); nil: scripts are stored
	// unchecked.
	CheckSieve func(src []byte) error
	// IsNotFound reports whether an error from Directory.User (or
	// Queue.QueueEntry) means "not found" (cmd passes errors.Is(err,
	// mailbox.ErrNotFound)).
	IsNotFound func(error) bool

	// Token, when not empty, is required as a bearer token on /v1/ and
	// /metrics. The caller reads it from SURAT_ADMIN_TOKEN.
	Token string
	// Hosts are the names (besides IP addresses and localhost) by which
	// the API may be addressed in the Host header; others are refused
	// (DNS rebinding). Lower case, no port.
	Hosts []string
	// LocalDomains are the node's --domain values: a user may be created in
	// one of them even before the cluster has recorded it.
	LocalDomains []string
	// Domains serves a domain's settings and keys (/v1/domains/{domain}
	// and below); nil: those answer 501.
	Domains DomainStore
	// Hostname is the node's --hostname: the MX and service host that
	// /v1/domains/{domain}/records prints.
	Hostname string
	// Resolver answers /v1/domains/{domain}/records?check=1 (the node's
	// --resolver); nil: checking is refused (503).
	Resolver domains.Resolver
	// CheckTimeout bounds a records check (default 20 s).
	CheckTimeout time.Duration

	// MTASTS, when set, answers every request whose Host is
	// mta-sts.DOMAIN (RFC 8461 §3.3), unauthenticated: the domain's
	// published MTA-STS policy is public by design.
	MTASTS http.Handler

	// Gatherer serves /metrics; nil serves an empty exposition.
	Gatherer prometheus.Gatherer
	// Registerer, if set, receives the API's own request metrics.
	Registerer prometheus.Registerer

	Logger *slog.Logger
	// HashPassword defaults to auth.Hash; tests pass something cheaper.
	HashPassword func(string) (string, error)
	// Now stamps UserCreated; defaults to time.Now.
	Now func() time.Time
	// StatusTimeout bounds GET /v1/cluster's member queries (default 2 s).
	StatusTimeout time.Duration
	// ProposeTimeout bounds a write (default 15 s).
	ProposeTimeout time.Duration
}

// MaxBodyBytes bounds request bodies: the largest legitimate one is an
// address and a password.
const MaxBodyBytes = 64 << 10

// Server is the admin API as an http.Handler.
type Server struct {
	cfg      Config
	mux      *http.ServeMux
	tokenSum [32]byte
	requests *prometheus.CounterVec
	mtaSTS   http.Handler // Config.MTASTS, observed
}

// New builds the handler.
func New(cfg Config) (*Server, error) {
	if cfg.Directory == nil || cfg.Digester == nil || cfg.Cluster == nil {
		return nil, errors.New("admin: Directory, Digester and Cluster are required")
	}
	if cfg.IsNotFound == nil {
		cfg.IsNotFound = func(error) bool { return false }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.HashPassword == nil {
		cfg.HashPassword = auth.Hash
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.StatusTimeout <= 0 {
		cfg.StatusTimeout = 2 * time.Second
	}
	if cfg.ProposeTimeout <= 0 {
		cfg.ProposeTimeout = 15 * time.Second
	}
	if cfg.CheckTimeout <= 0 {
		cfg.CheckTimeout = 20 * time.Second
	}
	if cfg.Gatherer == nil {
		cfg.Gatherer = prometheus.NewRegistry()
	}
	domains := make([]string, 0, len(cfg.LocalDomains))
	for _, d := range cfg.LocalDomains {
		domains = append(domains, strings.ToLower(strings.TrimSuffix(d, ".")))
	}
	cfg.LocalDomains = domains
	hosts := make([]string, 0, len(cfg.Hosts))
	for _, h := range cfg.Hosts {
		hosts = append(hosts, strings.ToLower(strings.TrimSuffix(h, ".")))
	}
	cfg.Hosts = hosts

	s := &Server{cfg: cfg, mux: http.NewServeMux()}
	if cfg.Token != "" {
		s.tokenSum = sha256.Sum256([]byte(cfg.Token))
	}
	if cfg.Registerer != nil {
		s.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "surat_admin_requests_total",
			Help: "Admin API requests by route and status code.",
		}, []string{"route", "code"})
		if err := cfg.Registerer.Register(s.requests); err != nil {
			return nil, fmt.Errorf("admin: register metrics: %w", err)
		}
	}

	open := func(pattern string, h http.HandlerFunc) { s.mux.Handle(pattern, s.observe(pattern, h)) }
	guarded := func(pattern string, h http.Handler) { s.mux.Handle(pattern, s.observe(pattern, s.requireToken(h))) }

	if cfg.MTASTS != nil {
		s.mtaSTS = s.observe("mta-sts", cfg.MTASTS)
	}
	open("GET /healthz", s.healthz)
	open("GET /readyz", s.readyz)
	guarded("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	guarded("GET /v1/cluster", http.HandlerFunc(s.clusterStatus))
	guarded("GET /v1/digest", http.HandlerFunc(s.digest))
	guarded("GET /v1/users", http.HandlerFunc(s.listUsers))
	guarded("POST /v1/users", http.HandlerFunc(s.addUser))
	guarded("GET /v1/users/{address}", http.HandlerFunc(s.getUser))
	guarded("PUT /v1/users/{address}/password", http.HandlerFunc(s.setPassword))
	guarded("PUT /v1/users/{address}/quota", http.HandlerFunc(s.setQuota))
	guarded("DELETE /v1/users/{address}", http.HandlerFunc(s.deleteUser))
	guarded("GET /v1/queue", http.HandlerFunc(s.listQueue))
	guarded("POST /v1/queue/{id}/retry", http.HandlerFunc(s.retryQueue))
	guarded("DELETE /v1/queue/{id}", http.HandlerFunc(s.deleteQueue))
	guarded("GET /v1/domains", http.HandlerFunc(s.listDomains))
	guarded("POST /v1/domains", http.HandlerFunc(s.addDomain))
	guarded("GET /v1/domains/{domain}", http.HandlerFunc(s.getDomain))
	guarded("DELETE /v1/domains/{domain}", http.HandlerFunc(s.deleteDomain))
	guarded("GET /v1/domains/{domain}/records", http.HandlerFunc(s.domainRecords))
	guarded("PUT /v1/domains/{domain}/settings", http.HandlerFunc(s.domainSettings))
	guarded("POST /v1/domains/{domain}/keys", http.HandlerFunc(s.rotateKeys))
	guarded("DELETE /v1/domains/{domain}/keys/{selector}", http.HandlerFunc(s.retireKey))
	guarded("GET /v1/bans", http.HandlerFunc(s.listBans))
	guarded("POST /v1/bans", http.HandlerFunc(s.addBan))
	guarded("DELETE /v1/bans/{prefix...}", http.HandlerFunc(s.deleteBan))
	guarded("GET /v1/dmarc/reports", http.HandlerFunc(s.listDMARCReports))
	guarded("GET /v1/dmarc/pending", http.HandlerFunc(s.listPendingReports))
	guarded("POST /v1/spam/train", http.HandlerFunc(s.spamTrain))
	guarded("GET /v1/spam/status", http.HandlerFunc(s.spamStatus))
	s.sieveRoutes(guarded)
	s.aclRoutes(guarded)
	// Unknown /v1/ paths answer in JSON, and behind the token so that they
	// do not reveal which routes exist.
	guarded("/v1/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no such endpoint: "+r.Method+" "+r.URL.Path)
	}))
	return s, nil
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.mtaSTS != nil && strings.HasPrefix(strings.ToLower(r.Host), "mta-sts.") {
		s.mtaSTS.ServeHTTP(w, r)
		return
	}
	if !s.sameSite(w, r) {
		return
	}
	s.mux.ServeHTTP(w, r)
}

// statusRecorder remembers the status for logs and metrics.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(p []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	return r.ResponseWriter.Write(p)
}

func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

func (s *Server) observe(route string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.status == 0 {
			rec.status = http.StatusOK
		}
		if s.requests != nil {
			s.requests.WithLabelValues(route, strconv.Itoa(rec.status)).Inc()
		}
		s.cfg.Logger.LogAttrs(r.Context(), slog.LevelDebug, "admin request",
			slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)),
			slog.String("remote", r.RemoteAddr))
	})
}

func (s *Server) requireToken(h http.Handler) http.Handler {
	if s.cfg.Token == "" {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		// Comparing digests keeps the comparison constant-time even in
		// the token's length.
		sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
		if !ok || subtle.ConstantTimeCompare(sum[:], s.tokenSum[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="surat"`) // RFC 6750 §3
			writeError(w, http.StatusUnauthorized, "unauthorized: wrong or missing admin token (SURAT_ADMIN_TOKEN)")
			return
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	if !s.cfg.Cluster.Ready() {
		reason := "no known leader or log not yet applied"
		// *cluster.Node says which (including low disk space).
		if r, ok := s.cfg.Cluster.(interface{ NotReadyReason() string }); ok {
			if why := r.NotReadyReason(); why != "" {
				reason = why
			}
		}
		writeError(w, http.StatusServiceUnavailable, "not ready: "+reason)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

func (s *Server) clusterStatus(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.StatusTimeout)
	defer cancel()
	st := s.cfg.Cluster.Status(ctx)
	if st.Members == nil {
		st.Members = []cluster.Member{}
	}
	writeJSON(w, http.StatusOK, st)
}

// DigestResponse is the body of GET /v1/digest.
type DigestResponse struct {
	AppliedIndex uint64 `json:"applied_index"`
	Digest       string `json:"digest"`
}

func (s *Server) digest(w http.ResponseWriter, _ *http.Request) {
	idx, sum, err := s.cfg.Digester.Digest()
	if err != nil {
		s.internal(w, "digest", err)
		return
	}
	writeJSON(w, http.StatusOK, DigestResponse{AppliedIndex: idx, Digest: hex.EncodeToString(sum[:])})
}

// UsersResponse is the body of GET /v1/users.
type UsersResponse struct {
	Users []string `json:"users"`
}

func (s *Server) listUsers(w http.ResponseWriter, _ *http.Request) {
	users, err := s.cfg.Directory.Users()
	if err != nil {
		s.internal(w, "list users", err)
		return
	}
	users = slices.Clone(users)
	slices.Sort(users)
	if users == nil {
		users = []string{}
	}
	writeJSON(w, http.StatusOK, UsersResponse{Users: users})
}

// UserResponse is the body of GET /v1/users/{address}.
type UserResponse struct {
	Address    string `json:"address"`
	QuotaBytes uint64 `json:"quota_bytes"`
	UsedBytes  uint64 `json:"used_bytes"`
	// QuotaMessages limits the number of messages (0: no limit).
	// UsedMessages counts them; it is left out for an account from
	// before the count until it is given a message limit.
	QuotaMessages uint64  `json:"quota_messages"`
	UsedMessages  *uint64 `json:"used_messages,omitempty"`
	CreatedUnix   int64   `json:"created_unix"`
}

func (s *Server) getUser(w http.ResponseWriter, r *http.Request) {
	addr, ok := s.pathAddress(w, r)
	if !ok {
		return
	}
	rec, err := s.cfg.Directory.User(addr)
	switch {
	case err != nil && s.cfg.IsNotFound(err), err == nil && rec == nil:
		writeError(w, http.StatusNotFound, "no such user: "+addr)
		return
	case err != nil:
		s.internal(w, "read user", err)
		return
	}
	resp := UserResponse{Address: rec.GetAddress(), QuotaBytes: rec.GetQuotaBytes(), UsedBytes: rec.GetUsedBytes(),
		QuotaMessages: rec.GetQuotaMessages(), CreatedUnix: rec.GetCreatedUnix()}
	if rec.GetUsedMessagesKnown() {
		resp.UsedMessages = new(rec.GetUsedMessages())
	}
	writeJSON(w, http.StatusOK, resp)
}

// AddUserRequest is the body of POST /v1/users: a password, or instead
// an existing hash to import as it is (PasswordHash: argon2id in PHC form,
// or bcrypt, what auth.Supported accepts), so accounts migrated from
// another server keep their passwords without the cleartext.
type AddUserRequest struct {
	Address      string `json:"address"`
	Password     string `json:"password,omitempty"`
	PasswordHash string `json:"password_hash,omitempty"`
}

// PasswordRequest is the body of PUT /v1/users/{address}/password.
type PasswordRequest struct {
	Password string `json:"password"`
}

// QuotaRequest is the body of PUT /v1/users/{address}/quota; 0 is no
// limit. Bytes is required; without Messages the message limit stays as
// it is.
type QuotaRequest struct {
	Bytes    *uint64 `json:"bytes"`
	Messages *uint64 `json:"messages,omitempty"`
}

func (s *Server) addUser(w http.ResponseWriter, r *http.Request) {
	var req AddUserRequest
	if !readJSON(w, r, &req) {
		return
	}
	addr, err := CanonicalAddress(req.Address)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	switch {
	case req.PasswordHash != "" && req.Password != "":
		writeError(w, http.StatusBadRequest, "give a password or a password hash, not both")
		return
	case req.PasswordHash != "":
		// Checked here, not at the first login: an import that would
		// lock the user out is refused up front.
		if !auth.Supported(req.PasswordHash) {
			writeError(w, http.StatusBadRequest, "unsupported password hash: want argon2id ($argon2id$v=19$m=..,t=..,p=..$salt$hash) or bcrypt ($2a$, $2b$, $2y$)")
			return
		}
	default:
		if msg := checkPassword(req.Password); msg != "" {
			writeError(w, http.StatusBadRequest, msg)
			return
		}
	}
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	known, err := s.cfg.Directory.Domains()
	if err != nil {
		s.internal(w, "list domains", err)
		return
	}
	addDomain := false
	if !slices.Contains(known, domain) {
		if !slices.Contains(s.cfg.LocalDomains, domain) {
			writeError(w, http.StatusBadRequest, "domain "+domain+" is not a local domain of this cluster")
			return
		}
		addDomain = true
	}
	hash := req.PasswordHash
	if hash == "" {
		if hash, err = s.cfg.HashPassword(req.Password); err != nil {
			s.internal(w, "hash password", err)
			return
		}
	}
	created := &evlog.Event{Kind: &evlog.Event_UserCreated{UserCreated: &evlog.UserCreated{
		Address: addr, PasswordHash: hash, CreatedUnix: s.cfg.Now().Unix(),
	}}}
	events := []*evlog.Event{created}
	if addDomain {
		// A domain is never added without its DKIM keys.
		added, err := domains.Added(domain, s.cfg.Now())
		if err != nil {
			s.internal(w, "generate DKIM keys", err)
			return
		}
		events = []*evlog.Event{added, created}
	}
	err = s.submit(r.Context(), events...)
	if addDomain && rejectedWith(err, evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS) {
		// Another node (or this one, not yet caught up) added the domain
		// first; the batch changed nothing, so create the user alone.
		err = s.submit(r.Context(), created)
	}
	if err != nil {
		s.proposeFailed(w, r, err, addr)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "user created", "user", addr, "domain_added", addDomain)
	writeJSON(w, http.StatusCreated, map[string]string{"address": addr})
}

func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	addr, ok := s.pathAddress(w, r)
	if !ok {
		return
	}
	var req PasswordRequest
	if !readJSON(w, r, &req) {
		return
	}
	if msg := checkPassword(req.Password); msg != "" {
		writeError(w, http.StatusBadRequest, msg)
		return
	}
	hash, err := s.cfg.HashPassword(req.Password)
	if err != nil {
		s.internal(w, "hash password", err)
		return
	}
	err = s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_PasswordChanged{PasswordChanged: &evlog.PasswordChanged{
		Address: addr, PasswordHash: hash,
	}}})
	if err != nil {
		s.proposeFailed(w, r, err, addr)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "password changed", "user", addr)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) setQuota(w http.ResponseWriter, r *http.Request) {
	addr, ok := s.pathAddress(w, r)
	if !ok {
		return
	}
	var req QuotaRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.Bytes == nil {
		writeError(w, http.StatusBadRequest, `missing "bytes" (0 means no limit)`)
		return
	}
	err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_QuotaSet{QuotaSet: &evlog.QuotaSet{
		Address: addr, Bytes: *req.Bytes, Messages: req.Messages,
	}}})
	if err != nil {
		s.proposeFailed(w, r, err, addr)
		return
	}
	if req.Messages != nil {
		s.cfg.Logger.InfoContext(r.Context(), "quota set", "user", addr, "quota_bytes", *req.Bytes, "quota_messages", *req.Messages)
	} else {
		s.cfg.Logger.InfoContext(r.Context(), "quota set", "user", addr, "quota_bytes", *req.Bytes)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) {
	addr, ok := s.pathAddress(w, r)
	if !ok {
		return
	}
	err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_UserDeleted{UserDeleted: &evlog.UserDeleted{Address: addr}}})
	if err != nil {
		s.proposeFailed(w, r, err, addr)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "user deleted", "user", addr)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) pathAddress(w http.ResponseWriter, r *http.Request) (string, bool) {
	addr, err := CanonicalAddress(r.PathValue("address"))
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return addr, true
}

func checkPassword(pw string) string {
	switch {
	case pw == "":
		return "empty password"
	case len(pw) > auth.MaxPasswordLen:
		return fmt.Sprintf("password longer than %d bytes", auth.MaxPasswordLen)
	case strings.ContainsAny(pw, "\r\n\x00"):
		// SASL PLAIN (RFC 4616) cannot carry NUL; CR/LF cannot be typed
		// into IMAP LOGIN or POP3 PASS.
		return "password contains a line break or NUL"
	}
	return ""
}

func readJSON(w http.ResponseWriter, r *http.Request, v any) bool {
	return readJSONLimit(w, r, v, MaxBodyBytes)
}

// readJSONLimit is readJSON for a body of up to limit bytes.
func readJSONLimit(w http.ResponseWriter, r *http.Request, v any, limit int64) bool {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", limit))
			return false
		}
		writeError(w, http.StatusBadRequest, "bad JSON body: "+oneLine(err.Error()))
		return false
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "bad JSON body: trailing data")
		return false
	}
	return true
}

func (s *Server) internal(w http.ResponseWriter, what string, err error) {
	s.cfg.Logger.Error("admin: "+what, "err", err)
	writeError(w, http.StatusInternalServerError, what+": "+oneLine(err.Error()))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// ErrorResponse is the body of every error reply.
type ErrorResponse struct {
	Error string `json:"error"`
}

func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, ErrorResponse{Error: oneLine(msg)})
}

// oneLine keeps error bodies to one line, as the CLI prints them verbatim.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 300 {
		s = s[:300] + "..."
	}
	return s
}
