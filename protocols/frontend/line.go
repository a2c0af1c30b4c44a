package frontend

import (
	"bufio"
	"bytes"
	"errors"
)

// ReadLine's errors: the protocols answer the first and go on, and end the
// session on the second.
var (
	ErrLineLong  = errors.New("line too long")
	ErrLineAbuse = errors.New("line far too long")
)

// ReadLine reads one command line ending in LF (the protocols ask for
// CRLF; accepting a bare LF costs nothing) and returns it without its line
// ending. A line longer than limit octets with its line ending is consumed
// and reported as ErrLineLong; one past discard octets, as ErrLineAbuse
// (what is left of it stays unread). A partial last line is returned as
// the connection's error: it is not a command.
func ReadLine(r *bufio.Reader, limit, discard int) ([]byte, error) {
	var acc []byte
	total := 0
	for {
		chunk, err := r.ReadSlice('\n')
		total += len(chunk)
		switch {
		case err == nil:
			if total > limit {
				return nil, ErrLineLong
			}
			if acc != nil {
				chunk = append(acc, chunk...)
			}
			chunk = bytes.TrimSuffix(chunk, []byte("\n"))
			return bytes.TrimSuffix(chunk, []byte("\r")), nil
		case errors.Is(err, bufio.ErrBufferFull):
			if total > discard {
				return nil, ErrLineAbuse
			}
			if total <= limit {
				acc = append(acc, chunk...)
			} else {
				acc = nil
			}
		default:
			return nil, err
		}
	}
}

// LineBuffered reports whether a whole line is already buffered in r: a
// pipelining client's next command, answered before the replies are
// flushed.
func LineBuffered(r *bufio.Reader) bool {
	b, _ := r.Peek(r.Buffered())
	return bytes.IndexByte(b, '\n') >= 0
}
