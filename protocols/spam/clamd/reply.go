package clamd

import (
	"errors"
	"fmt"
	"strings"
)

// Result is clamd's verdict on one stream.
type Result struct {
	Infected  bool
	Signature string // the name clamd found ("Eicar-Test-Signature"), when Infected
}

// ErrSizeLimit is clamd's refusal of a stream longer than its
// StreamMaxLength ("INSTREAM size limit exceeded. ERROR"). The message was
// not scanned: the failure policy decides.
var ErrSizeLimit = errors.New("stream longer than clamd's StreamMaxLength")

// ReplyError is an error reply of clamd ("... ERROR") or a reply this
// client does not understand.
type ReplyError struct {
	Reply string
}

func (e *ReplyError) Error() string { return fmt.Sprintf("unexpected reply %q", e.Reply) }

// maxSignature bounds the signature name quoted in an SMTP reply.
const maxSignature = 120

// parseReply reads one reply of INSTREAM, without its terminator (NUL or
// LF): "stream: OK", "stream: NAME FOUND", "... ERROR", optionally after
// a session's "N: " request number (IDSESSION, clamd(8)).
func parseReply(s string) (Result, error) {
	s = strings.TrimRight(s, "\x00\r\n\t ")
	if len(s) > 4096 {
		return Result{}, &ReplyError{Reply: s[:64] + "..."}
	}
	rest := s
	// "N: " when the reply belongs to an IDSESSION request.
	if i := strings.Index(rest, ": "); i > 0 && isDigits(rest[:i]) {
		rest = rest[i+2:]
	}
	if strings.HasSuffix(rest, " ERROR") || rest == "ERROR" {
		if strings.Contains(rest, "size limit exceeded") {
			return Result{}, ErrSizeLimit
		}
		return Result{}, &ReplyError{Reply: s}
	}
	// "stream: ..." (the name of what was scanned; for INSTREAM "stream").
	_, verdict, ok := strings.Cut(rest, ": ")
	if !ok {
		return Result{}, &ReplyError{Reply: s}
	}
	switch {
	case verdict == "OK":
		return Result{}, nil
	case strings.HasSuffix(verdict, " FOUND"):
		sig := strings.TrimSpace(strings.TrimSuffix(verdict, " FOUND"))
		if sig == "" {
			return Result{}, &ReplyError{Reply: s}
		}
		return Result{Infected: true, Signature: sanitize(sig)}, nil
	}
	return Result{}, &ReplyError{Reply: s}
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// sanitize keeps a signature name fit for an SMTP reply line (RFC 5321
// §4.2: printable US-ASCII text) and bounded.
func sanitize(s string) string {
	var b strings.Builder
	for i := 0; i < len(s) && b.Len() < maxSignature; i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			c = '_'
		}
		b.WriteByte(c)
	}
	return b.String()
}
