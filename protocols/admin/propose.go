package admin

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

func (s *Server) submit(ctx context.Context, events ...*evlog.Event) error {
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProposeTimeout)
	defer cancel()
	_, err := propose.Submit(ctx, s.cfg.Cluster, events...)
	return err
}

func rejectedWith(err error, code evlog.ErrorCode) bool { return propose.IsCode(err, code) }

// proposeFailed maps a failed write to its HTTP status and one-line reason:
// apply's refusals are the client's problem (4xx), everything the cluster
// reports is temporary (503), so a client is never told a write failed for
// good when it might succeed on retry.
func (s *Server) proposeFailed(w http.ResponseWriter, r *http.Request, err error, addr string) {
	status, msg := proposeStatus(err, addr)
	level := slog.LevelInfo
	if status >= 500 {
		level = slog.LevelWarn
	}
	s.cfg.Logger.Log(r.Context(), level, "admin write failed", "user", addr, "status", status, "err", err)
	writeError(w, status, msg)
}

func proposeStatus(err error, addr string) (int, string) {
	var rej *propose.RejectedError
	if errors.As(err, &rej) {
		switch rej.Code {
		case evlog.ErrorCode_ERROR_CODE_USER_EXISTS:
			return http.StatusConflict, "user " + addr + " already exists"
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER:
			return http.StatusNotFound, "no such user: " + addr
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN:
			return http.StatusBadRequest, "the domain of " + addr + " is not a local domain of this cluster"
		case evlog.ErrorCode_ERROR_CODE_DOMAIN_EXISTS, evlog.ErrorCode_ERROR_CODE_ALIAS_EXISTS,
			evlog.ErrorCode_ERROR_CODE_MAILBOX_EXISTS, evlog.ErrorCode_ERROR_CODE_OVER_QUOTA:
			return http.StatusConflict, rej.Error()
		case evlog.ErrorCode_ERROR_CODE_FORBIDDEN:
			return http.StatusForbidden, rej.Error()
		case evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, evlog.ErrorCode_ERROR_CODE_NO_SUCH_ALIAS,
			evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB:
			return http.StatusNotFound, rej.Error()
		default:
			return http.StatusBadRequest, rej.Error()
		}
	}
	switch {
	case errors.Is(err, cluster.ErrNoLeader):
		return http.StatusServiceUnavailable, "cluster has no leader; nothing was changed, try again"
	case errors.Is(err, cluster.ErrNoQuorum):
		return http.StatusServiceUnavailable, "cluster has no quorum; the change may or may not have been applied, try again"
	case errors.Is(err, cluster.ErrShutdown):
		return http.StatusServiceUnavailable, "node is shutting down; try another node"
	case errors.Is(err, cluster.ErrInsufficientStorage):
		return http.StatusServiceUnavailable, "insufficient disk space on this node or the leader; nothing was changed, try another node or free space"
	case errors.Is(err, cluster.ErrTooLarge):
		return http.StatusRequestEntityTooLarge, "proposal too large"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusServiceUnavailable, "timed out waiting for the cluster; the change may or may not have been applied"
	case errors.Is(err, context.Canceled):
		return http.StatusServiceUnavailable, "request canceled"
	case errors.Is(err, propose.ErrMalformedOutcome):
		return http.StatusInternalServerError, oneLine(err.Error())
	default:
		return http.StatusServiceUnavailable, "cluster unavailable: " + oneLine(err.Error())
	}
}
