package admin

import (
	"encoding/hex"
	"errors"
	"net/http"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// Queue is the outbound queue's read side (*mailbox.Store has it).
type Queue interface {
	QueueEntries(limit int) ([]*evlog.QueueRecord, error)
	QueueEntry(id []byte) (*evlog.QueueRecord, error)
}

// QueueRecipient is one recipient of a queue entry.
type QueueRecipient struct {
	Address string `json:"address"`
	State   string `json:"state"` // pending, sent, bounced
	Reply   string `json:"reply,omitempty"`
}

// QueueEntry is one entry of GET /v1/queue.
type QueueEntry struct {
	ID          string           `json:"id"`
	From        string           `json:"from"`
	Submitter   string           `json:"submitter,omitempty"`
	Size        uint64           `json:"size"`
	Recipients  []QueueRecipient `json:"recipients"`
	Attempts    uint32           `json:"attempts"`
	Queued      time.Time        `json:"queued"`
	NextAttempt time.Time        `json:"next_attempt"`
	LastAttempt *time.Time       `json:"last_attempt,omitempty"`
	Expires     time.Time        `json:"expires"`
	LastReply   string           `json:"last_reply,omitempty"`
}

// QueueResponse is the body of GET /v1/queue.
type QueueResponse struct {
	Entries []QueueEntry `json:"entries"`
}

// maxQueueList bounds one listing.
const maxQueueList = 10000

func queueEntryJSON(q *evlog.QueueRecord) QueueEntry {
	e := QueueEntry{
		ID: hex.EncodeToString(q.GetId()), From: q.GetMailFrom(), Submitter: q.GetSubmitter(), Size: q.GetSize(),
		Attempts: q.GetAttempts(), Queued: time.Unix(q.GetQueuedUnix(), 0).UTC(),
		NextAttempt: time.Unix(q.GetNextAttemptUnix(), 0).UTC(), Expires: time.Unix(q.GetExpiresUnix(), 0).UTC(),
		LastReply: q.GetLastReply(), Recipients: []QueueRecipient{},
	}
	if q.GetLastAttemptUnix() > 0 {
		t := time.Unix(q.GetLastAttemptUnix(), 0).UTC()
		e.LastAttempt = &t
	}
	for _, r := range q.GetRecipients() {
		state := "pending"
		switch r.GetStatus() {
		case evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_SENT:
			state = "sent"
		case evlog.QueueRecipientStatus_QUEUE_RECIPIENT_STATUS_BOUNCED:
			state = "bounced"
		}
		e.Recipients = append(e.Recipients, QueueRecipient{Address: r.GetAddress(), State: state, Reply: r.GetReply()})
	}
	return e
}

func (s *Server) listQueue(w http.ResponseWriter, _ *http.Request) {
	if s.cfg.Queue == nil {
		writeJSON(w, http.StatusOK, QueueResponse{Entries: []QueueEntry{}})
		return
	}
	list, err := s.cfg.Queue.QueueEntries(maxQueueList)
	if err != nil {
		s.internal(w, "list queue", err)
		return
	}
	out := QueueResponse{Entries: make([]QueueEntry, 0, len(list))}
	for _, q := range list {
		out.Entries = append(out.Entries, queueEntryJSON(q))
	}
	writeJSON(w, http.StatusOK, out)
}

// queueID parses the path's id and checks that the entry exists here.
func (s *Server) queueID(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	raw := r.PathValue("id")
	id, err := hex.DecodeString(raw)
	if err != nil || len(id) != 16 {
		writeError(w, http.StatusBadRequest, "bad queue id "+raw+": want 32 hex digits (see surat queue list)")
		return nil, false
	}
	if s.cfg.Queue == nil {
		writeError(w, http.StatusNotFound, "no such queue entry: "+raw)
		return nil, false
	}
	if _, err := s.cfg.Queue.QueueEntry(id); err != nil {
		if s.cfg.IsNotFound(err) {
			writeError(w, http.StatusNotFound, "no such queue entry: "+raw)
		} else {
			s.internal(w, "read queue entry", err)
		}
		return nil, false
	}
	return id, true
}

func (s *Server) retryQueue(w http.ResponseWriter, r *http.Request) {
	id, ok := s.queueID(w, r)
	if !ok {
		return
	}
	err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_QueueRetried{QueueRetried: &evlog.QueueRetried{
		Id: id, NextAttemptUnix: s.cfg.Now().Unix()}}})
	s.queueWritten(w, r, err, id, "queue entry retried")
}

func (s *Server) deleteQueue(w http.ResponseWriter, r *http.Request) {
	id, ok := s.queueID(w, r)
	if !ok {
		return
	}
	err := s.submit(r.Context(), &evlog.Event{Kind: &evlog.Event_QueueDeleted{QueueDeleted: &evlog.QueueDeleted{Id: id}}})
	s.queueWritten(w, r, err, id, "queue entry deleted")
}

func (s *Server) queueWritten(w http.ResponseWriter, r *http.Request, err error, id []byte, what string) {
	qid := hex.EncodeToString(id)
	var rej *propose.RejectedError
	if errors.As(err, &rej) && rej.Code == evlog.ErrorCode_ERROR_CODE_NO_SUCH_QUEUE_ENTRY {
		// Finished or deleted between the check and the commit.
		writeError(w, http.StatusNotFound, "no such queue entry: "+qid)
		return
	}
	if err != nil {
		s.proposeFailed(w, r, err, qid)
		return
	}
	s.cfg.Logger.InfoContext(r.Context(), what, "queue_id", qid)
	w.WriteHeader(http.StatusNoContent)
}
