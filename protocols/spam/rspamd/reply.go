package rspamd

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strings"
)

// rspamd's actions (its metric's thresholds, or a module's pre-result).
const (
	ActionNoAction       = "no action"
	ActionGreylist       = "greylist"
	ActionAddHeader      = "add header"
	ActionRewriteSubject = "rewrite subject"
	ActionSoftReject     = "soft reject"
	ActionReject         = "reject"
	ActionQuarantine     = "quarantine"
	ActionDiscard        = "discard"
)

var knownActions = map[string]bool{
	ActionNoAction: true, ActionGreylist: true, ActionAddHeader: true, ActionRewriteSubject: true,
	ActionSoftReject: true, ActionReject: true, ActionQuarantine: true, ActionDiscard: true,
}

// Reply is what /checkv2 answers.
type Reply struct {
	Action        string            `json:"action"`
	Score         float64           `json:"score"`
	RequiredScore float64           `json:"required_score"`
	IsSkipped     bool              `json:"is_skipped"`
	Symbols       map[string]Symbol `json:"symbols"`
	// SMTPMessage is messages.smtp_message: the text rspamd wants the
	// client to see with a rejection, sanitized, or "".
	SMTPMessage string `json:"-"`
}

// Symbol is one rule that matched.
type Symbol struct {
	Name        string   `json:"name"`
	Score       float64  `json:"score"`
	Description string   `json:"description"`
	Options     []string `json:"options"`
}

// ErrBadReply is a /checkv2 reply this client cannot read or map.
var ErrBadReply = errors.New("unreadable reply")

// maxReplyBytes bounds the reply read from rspamd.
const maxReplyBytes = 1 << 20

// ParseReply reads a /checkv2 reply; an unknown or missing action is an
// error (the check cannot map it to a decision).
func ParseReply(data []byte) (*Reply, error) {
	var raw struct {
		Reply
		Messages map[string]json.RawMessage `json:"messages"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadReply, err)
	}
	r := raw.Reply
	if !knownActions[r.Action] {
		return nil, fmt.Errorf("%w: unknown action %q", ErrBadReply, sanitize(r.Action, 40))
	}
	if math.IsNaN(r.Score) || math.IsInf(r.Score, 0) {
		return nil, fmt.Errorf("%w: score %v", ErrBadReply, r.Score)
	}
	if m, ok := raw.Messages["smtp_message"]; ok {
		var s string
		if json.Unmarshal(m, &s) == nil {
			r.SMTPMessage = sanitize(s, 200)
		}
	}
	return &r, nil
}

// sanitize keeps text fit for an SMTP reply line (RFC 5321 §4.2: printable
// US-ASCII and spaces), on one line, bounded.
func sanitize(s string, limit int) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < limit; i++ {
		c := s[i]
		if c < 0x20 || c > 0x7e {
			c = ' '
		}
		b.WriteByte(c)
	}
	return strings.TrimSpace(b.String())
}

// top names the highest-scoring symbols, at most n, for a log line.
func (r *Reply) top(n int) []string {
	syms := make([]Symbol, 0, len(r.Symbols))
	for name, s := range r.Symbols {
		if s.Name == "" {
			s.Name = name
		}
		syms = append(syms, s)
	}
	sort.Slice(syms, func(i, j int) bool {
		if syms[i].Score != syms[j].Score {
			return syms[i].Score > syms[j].Score
		}
		return syms[i].Name < syms[j].Name
	})
	var out []string
	for _, s := range syms[:min(n, len(syms))] {
		out = append(out, fmt.Sprintf("%s(%.2f)", sanitize(s.Name, 64), s.Score))
	}
	return out
}
