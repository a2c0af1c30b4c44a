package dkimsign

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/surat-mail/surat/protocols/pipeline"
)

// Check is the pipeline check of the submission ports: a message whose
// From another owns is refused (553 5.7.1, RFC 6409 §8.1, RFC 3463
// X.7.1); the others get DKIM-Signature fields, d= the domain of the
// first From address, when that domain has keys.
type Check struct {
	keys   *Keys
	owners Owners
	logger *slog.Logger
}

// NewCheck makes the check over a node's key cache and the store's
// address owners (*mailbox.Store).
func NewCheck(keys *Keys, owners Owners, logger *slog.Logger) *Check {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Check{keys: keys, owners: owners, logger: logger}
}

// Name implements pipeline.Check.
func (c *Check) Name() string { return "dkim-sign" }

// Start implements pipeline.Check: it applies to authenticated submission
// only.
func (c *Check) Start(_ context.Context, env pipeline.Envelope) (pipeline.Run, error) {
	if !env.Submission || env.User == "" {
		return nil, nil
	}
	return &run{c: c, user: env.User}, nil
}

// run holds the message's header until it ends, then checks From and
// streams the rest into the signer.
type run struct {
	c      *Check
	user   string
	header []byte
	msg    *Message // nil until the header ended, and when not signing
	begun  bool
	refuse *pipeline.Reply
	err    error  // a temporary failure, for Finish
	note   string // why the message is not signed, for the log
}

func (r *run) Write(p []byte) (int, error) {
	switch {
	case r.refuse != nil || r.err != nil:
	case r.begun:
		if r.msg != nil {
			if _, err := r.msg.Write(p); err != nil {
				r.err = err
			}
		}
	default:
		r.header = append(r.header, p...)
		if end := headerEnd(r.header); end >= 0 {
			r.begin(end)
		} else if len(r.header) > MaxHeaderBytes {
			// RFC 3463 X.3.4: too big for the system.
			r.refuse = &pipeline.Reply{Code: 552, Enhanced: [3]int{5, 3, 4},
				Text: fmt.Sprintf("Message header larger than %d bytes", MaxHeaderBytes)}
		}
	}
	return len(p), nil
}

// begin checks From against the header and starts signing with what was
// buffered.
func (r *run) begin(end int) {
	r.begun = true
	buffered := r.header
	r.header = nil
	err := CheckFrom(buffered[:end], r.user, r.c.owners)
	switch {
	case errors.Is(err, ErrNotAligned):
		r.refuse = &pipeline.Reply{Code: 553, Enhanced: [3]int{5, 7, 1}, Text: "From header not yours: " + err.Error()}
		return
	case err != nil:
		r.err = err
		return
	}
	froms, _ := fromAddresses(buffered[:end])
	domain := froms[0].Domain()
	s, err := r.c.keys.Signer(domain)
	switch {
	case errors.Is(err, ErrNoKeys):
		r.note = "dkim=none (no key for " + domain + ")"
		return
	case err != nil:
		r.err = err
		return
	}
	r.msg = s.Start()
	if _, err := r.msg.Write(buffered); err != nil {
		r.err = err
	}
}

func (r *run) Finish(context.Context) (pipeline.Outcome, error) {
	if !r.begun && r.refuse == nil && r.err == nil {
		// The message ended inside its header: Fields ends it.
		r.begin(len(r.header))
	}
	if r.refuse != nil {
		r.Abort()
		return pipeline.Outcome{Action: pipeline.Refuse, Reply: r.refuse, Note: "from=misaligned"}, nil
	}
	if r.err != nil {
		r.Abort()
		return pipeline.Outcome{}, r.err
	}
	if r.msg == nil {
		if r.note != "" {
			r.c.logger.Warn("submitted message not DKIM-signed", "user", r.user, "reason", r.note)
		}
		return pipeline.Outcome{Note: r.note}, nil
	}
	fields, err := r.msg.Fields()
	r.msg = nil
	if err != nil {
		return pipeline.Outcome{}, err
	}
	return pipeline.Outcome{Prepend: fields, Note: "dkim-signed d=" + signedDomain(fields)}, nil
}

func (r *run) Abort() {
	if r.msg != nil {
		r.msg.Abort()
		r.msg = nil
	}
}

// signedDomain is the d= of the first field, for the log.
func signedDomain(fields []byte) string {
	_, rest, ok := bytes.Cut(fields, []byte(" d="))
	if !ok {
		return ""
	}
	d, _, _ := bytes.Cut(rest, []byte(";"))
	return string(d)
}
