package admin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"

	evlog "github.com/surat-mail/surat/log"
)

// SpamModels is the spam classifier's side the API needs; cmd/surat wires
// it to protocols/spam and the store (this package stays clear of both).
type SpamModels interface {
	// TrainEvent tokenizes one message into the SpamTrained event that
	// trains user's model ("" the global one) as spam or ham.
	TrainEvent(user string, spam bool, message []byte) (*evlog.Event, error)
	// SpamStatus describes user's model ("" the global one).
	SpamStatus(user string) (SpamModel, error)
	// SpamModels describes every trained model, the global one first.
	SpamModels() ([]SpamModel, error)
}

// SpamModel is one model's entry in GET /v1/spam/status.
type SpamModel struct {
	User   string `json:"user"` // "" for the global model
	Spam   uint64 `json:"spam"` // messages trained as spam
	Ham    uint64 `json:"ham"`
	Tokens uint64 `json:"tokens"`
	Bytes  uint64 `json:"bytes"` // an estimate of its size on disk
}

// SpamStatusResponse is the body of GET /v1/spam/status.
type SpamStatusResponse struct {
	Models []SpamModel `json:"models"`
}

// SpamTrainRequest is the body of POST /v1/spam/train: messages (RFC 5322,
// base64 in JSON) to train as Class "spam" or "ham", into User's model or,
// when User is empty, the global one.
type SpamTrainRequest struct {
	User     string   `json:"user,omitempty"`
	Class    string   `json:"class"`
	Messages [][]byte `json:"messages"`
}

// SpamTrainResponse is the answer to POST /v1/spam/train.
type SpamTrainResponse struct {
	Trained int `json:"trained"`
}

// MaxSpamTrainBytes bounds the body of POST /v1/spam/train; the CLI sends
// batches well under it (SpamTrainBatchBytes).
const MaxSpamTrainBytes = 32 << 20

// SpamTrainBatchBytes is how many bytes of messages the client puts in one
// request.
const SpamTrainBatchBytes = 4 << 20

// maxBatchTokens bounds the token hashes of one proposal (8 bytes each),
// keeping entries near log.ChunkSize.
const maxBatchTokens = evlog.ChunkSize / 8

// spamUser canonicalizes an optional user and checks that it exists:
// ok false when the answer was written.
func (s *Server) spamUser(w http.ResponseWriter, user string) (string, bool) {
	if user == "" {
		return "", true
	}
	addr, err := CanonicalAddress(user)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	rec, err := s.cfg.Directory.User(addr)
	switch {
	case err != nil && s.cfg.IsNotFound(err), err == nil && rec == nil:
		writeError(w, http.StatusNotFound, "no such user: "+addr)
		return "", false
	case err != nil:
		s.internal(w, "read user", err)
		return "", false
	}
	return addr, true
}

func (s *Server) spamTrain(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Spam == nil {
		writeError(w, http.StatusNotImplemented, "the spam classifier is not configured on this node")
		return
	}
	var req SpamTrainRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, MaxSpamTrainBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", MaxSpamTrainBytes))
			return
		}
		writeError(w, http.StatusBadRequest, "bad JSON body: "+oneLine(err.Error()))
		return
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		writeError(w, http.StatusBadRequest, "bad JSON body: trailing data")
		return
	}
	if req.Class != "spam" && req.Class != "ham" {
		writeError(w, http.StatusBadRequest, `bad class: want "spam" or "ham"`)
		return
	}
	if len(req.Messages) == 0 {
		writeError(w, http.StatusBadRequest, "no messages")
		return
	}
	user, ok := s.spamUser(w, req.User)
	if !ok {
		return
	}
	events := make([]*evlog.Event, 0, len(req.Messages))
	for i, m := range req.Messages {
		if len(m) == 0 {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("message %d is empty", i+1))
			return
		}
		e, err := s.cfg.Spam.TrainEvent(user, req.Class == "spam", m)
		if err != nil {
			writeError(w, http.StatusBadRequest, fmt.Sprintf("message %d: %v", i+1, err))
			return
		}
		events = append(events, e)
	}
	// In proposals of bounded size, one after the other: a failure leaves
	// the earlier ones trained, and says how many.
	done := 0
	for len(events) > 0 {
		n, tokens := 0, 0
		for n < len(events) {
			k := len(events[n].GetSpamTrained().GetTokens())
			if n > 0 && tokens+k > maxBatchTokens {
				break
			}
			n, tokens = n+1, tokens+k
		}
		if err := s.submit(r.Context(), events[:n]...); err != nil {
			status, msg := proposeStatus(err, user)
			if done > 0 {
				msg = fmt.Sprintf("%s (%d of %d messages were trained)", msg, done, len(req.Messages))
			}
			s.cfg.Logger.WarnContext(r.Context(), "spam training failed", "user", user, "result", req.Class, "count", len(req.Messages)-done, "err", err)
			writeError(w, status, msg)
			return
		}
		done += n
		events = events[n:]
	}
	s.cfg.Logger.InfoContext(r.Context(), "spam trained", "user", user, "result", req.Class, "count", done)
	writeJSON(w, http.StatusOK, SpamTrainResponse{Trained: done})
}

func (s *Server) spamStatus(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Spam == nil {
		writeError(w, http.StatusNotImplemented, "the spam classifier is not configured on this node")
		return
	}
	out := SpamStatusResponse{Models: []SpamModel{}}
	if r.URL.Query().Has("user") {
		user, ok := s.spamUser(w, r.URL.Query().Get("user"))
		if !ok {
			return
		}
		m, err := s.cfg.Spam.SpamStatus(user)
		if err != nil {
			s.internal(w, "read spam model", err)
			return
		}
		out.Models = append(out.Models, m)
		writeJSON(w, http.StatusOK, out)
		return
	}
	models, err := s.cfg.Spam.SpamModels()
	if err != nil {
		s.internal(w, "read spam models", err)
		return
	}
	if len(models) == 0 || models[0].User != "" {
		// The global model is always listed, trained or not.
		models = append([]SpamModel{{}}, models...)
	}
	out.Models = append(out.Models, models...)
	writeJSON(w, http.StatusOK, out)
}

// SpamTrain trains user's model ("" the global one) with messages as
// spam or ham, in requests of at most SpamTrainBatchBytes of messages,
// and returns how many were trained.
func (c *Client) SpamTrain(ctx context.Context, user string, spam bool, messages [][]byte) (int, error) {
	class := "ham"
	if spam {
		class = "spam"
	}
	done := 0
	for len(messages) > 0 {
		n, size := 0, 0
		for n < len(messages) && (n == 0 || size+len(messages[n]) <= SpamTrainBatchBytes) {
			size += len(messages[n])
			n++
		}
		var out SpamTrainResponse
		if err := c.do(ctx, http.MethodPost, "/v1/spam/train", SpamTrainRequest{User: user, Class: class, Messages: messages[:n]}, &out); err != nil {
			return done, err
		}
		done += out.Trained
		messages = messages[n:]
	}
	return done, nil
}

// SpamStatus describes the models: user's when user is not empty, else
// every trained one, the global model first.
func (c *Client) SpamStatus(ctx context.Context, user string) ([]SpamModel, error) {
	path := "/v1/spam/status"
	if user != "" {
		path += "?user=" + url.QueryEscape(user)
	}
	var out SpamStatusResponse
	err := c.do(ctx, http.MethodGet, path, nil, &out)
	return out.Models, err
}
