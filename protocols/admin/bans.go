package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/bans"
	"github.com/surat-mail/surat/protocols/propose"
)

// BanList is the ban list's read side (*mailbox.Store has it).
type BanList interface {
	// Bans lists the bans in force at now.
	Bans(now time.Time) ([]*evlog.BanRecord, error)
}

// DefaultBanDuration is how long a ban lasts when the request names no
// duration.
const DefaultBanDuration = 24 * time.Hour

// maxBanReason bounds a ban's reason (apply refuses longer ones).
const maxBanReason = 512

// Ban is one entry of GET /v1/bans.
type Ban struct {
	Prefix  string     `json:"prefix"`
	Reason  string     `json:"reason,omitempty"`
	Source  string     `json:"source,omitempty"`
	Created time.Time  `json:"created"`
	Expires *time.Time `json:"expires"` // null: never
}

// BansResponse is the body of GET /v1/bans.
type BansResponse struct {
	Bans []Ban `json:"bans"`
}

// AddBanRequest is the body of POST /v1/bans. Prefix is an IP address or
// CIDR prefix (an IPv6 address bans its /64). Seconds is the duration:
// absent, DefaultBanDuration; 0, a ban that never expires.
type AddBanRequest struct {
	Prefix  string `json:"prefix"`
	Seconds *int64 `json:"seconds,omitempty"`
	Reason  string `json:"reason,omitempty"`
}

func banJSON(rec *evlog.BanRecord) Ban {
	b := Ban{Prefix: rec.GetPrefix(), Reason: rec.GetReason(), Source: rec.GetSource(),
		Created: time.Unix(rec.GetCreatedUnix(), 0).UTC()}
	if x := rec.GetExpiresUnix(); x != 0 {
		t := time.Unix(x, 0).UTC()
		b.Expires = &t
	}
	return b
}

func (s *Server) listBans(w http.ResponseWriter, _ *http.Request) {
	out := BansResponse{Bans: []Ban{}}
	if s.cfg.Bans != nil {
		list, err := s.cfg.Bans.Bans(s.cfg.Now())
		if err != nil {
			s.internal(w, "list bans", err)
			return
		}
		for _, rec := range list {
			out.Bans = append(out.Bans, banJSON(rec))
		}
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) addBan(w http.ResponseWriter, r *http.Request) {
	var req AddBanRequest
	if !readJSON(w, r, &req) {
		return
	}
	p, err := evlog.BanPrefix(req.Prefix)
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad ban: "+err.Error())
		return
	}
	d := DefaultBanDuration
	if req.Seconds != nil {
		if *req.Seconds < 0 || *req.Seconds > int64(100*365*24*time.Hour/time.Second) {
			writeError(w, http.StatusBadRequest, "bad ban duration: want 0 (never expires) up to 100 years")
			return
		}
		d = time.Duration(*req.Seconds) * time.Second
	}
	reason := strings.Join(strings.Fields(req.Reason), " ")
	if len(reason) > maxBanReason {
		writeError(w, http.StatusBadRequest, "ban reason longer than 512 bytes")
		return
	}
	ban := bans.New(p, reason, "admin", s.cfg.Now(), d)
	if err := s.submit(r.Context(), ban); err != nil {
		s.proposeFailed(w, r, err, p.String())
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "ban added", "prefix", p.String(), "duration", d, "reason", reason)
	b := ban.GetBanAdded()
	writeJSON(w, http.StatusCreated, banJSON(&evlog.BanRecord{Prefix: b.GetPrefix(), Reason: b.GetReason(),
		Source: b.GetSource(), CreatedUnix: b.GetCreatedUnix(), ExpiresUnix: b.GetExpiresUnix()}))
}

func (s *Server) deleteBan(w http.ResponseWriter, r *http.Request) {
	p, err := evlog.BanPrefix(r.PathValue("prefix"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "bad ban: "+err.Error())
		return
	}
	err = s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_BanRemoved{BanRemoved: &evlog.BanRemoved{Prefix: p.String()}}})
	var rej *propose.RejectedError
	if errors.As(err, &rej) && rej.Code == evlog.ErrorCode_ERROR_CODE_NO_SUCH_BAN {
		writeError(w, http.StatusNotFound, "no such ban: "+p.String())
		return
	}
	if err != nil {
		s.proposeFailed(w, r, err, p.String())
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), "ban removed", "prefix", p.String())
	w.WriteHeader(http.StatusNoContent)
}

// Bans lists the bans in force.
func (c *Client) Bans(ctx context.Context) ([]Ban, error) {
	var out BansResponse
	err := c.do(ctx, http.MethodGet, "/v1/bans", nil, &out)
	return out.Bans, err
}

// AddBan bans prefix (an address or CIDR) for d (0: for good) and returns
// the ban as recorded.
func (c *Client) AddBan(ctx context.Context, prefix string, d time.Duration, reason string) (Ban, error) {
	secs := int64(d / time.Second)
	var out Ban
	err := c.do(ctx, http.MethodPost, "/v1/bans", AddBanRequest{Prefix: prefix, Seconds: &secs, Reason: reason}, &out)
	return out, err
}

// DeleteBan lifts the ban of prefix (an address or CIDR, as it was added).
func (c *Client) DeleteBan(ctx context.Context, prefix string) error {
	p, err := evlog.BanPrefix(prefix)
	if err != nil {
		return err
	}
	// A canonical prefix is digits, hex letters, '.', ':' and '/': safe in
	// a path as it is, and {prefix...} takes the '/' along.
	return c.do(ctx, http.MethodDelete, "/v1/bans/"+p.String(), nil, nil)
}
