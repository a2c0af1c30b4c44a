package wire

import (
	"errors"
	"fmt"
)

// SyntaxError is a command the decoder refused. The dispatcher answers it
// with the command's tag (or "*" when no tag was read), "BAD" (or "NO"
// when No is set), the response code Code when not empty, and Text; then,
// unless Fatal, it calls Decoder.Discard and reads the next command.
//
// A Fatal error means the decoder can no longer tell where the client's
// next command begins (a line or a refused literal longer than
// Limits.MaxDiscard): the dispatcher sends BYE and closes the connection.
//
// Errors of the underlying reader (io.EOF, a deadline) are returned as
// they are, never as a SyntaxError.
type SyntaxError struct {
	Text  string
	Code  string // a response code without brackets ("TOOBIG", "CLIENTBUG"), or ""
	No    bool   // a refusal on size, not a fault of syntax: answer NO
	Fatal bool
}

func (e *SyntaxError) Error() string {
	if e.Code != "" {
		return fmt.Sprintf("imap syntax: [%s] %s", e.Code, e.Text)
	}
	return "imap syntax: " + e.Text
}

// IsSyntax reports whether err is (or wraps) a *SyntaxError and returns it.
func IsSyntax(err error) (*SyntaxError, bool) {
	var se *SyntaxError
	ok := errors.As(err, &se)
	return se, ok
}

func syntaxf(format string, args ...any) *SyntaxError {
	return &SyntaxError{Text: fmt.Sprintf(format, args...)}
}

// errTooDeep is returned when lists nest deeper than Limits.MaxDepth.
func errTooDeep() *SyntaxError { return &SyntaxError{Text: "Too deeply nested", Code: "CLIENTBUG"} }
