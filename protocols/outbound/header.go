package outbound

import (
	"bufio"
	"bytes"
	"net/textproto"
	"strings"
)

// withoutReturnPath is body as relayed onward: its header without any
// Return-Path field (with continuation lines). RFC 5321 §4.4: Return-Path
// is added at final delivery; a message in transit must not carry one,
// and the copy Surat stores for its local recipients has ours.
func withoutReturnPath(body []byte) []byte {
	end := bytes.Index(body, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(body)
	} else {
		end += 2 // keep the blank line in the body part
	}
	var out []byte // allocated only when a field is removed
	kept := 0      // body[:kept] is already accounted for in out
	skipping := false
	for i := 0; i < end; {
		j := bytes.Index(body[i:end], []byte("\r\n"))
		next := end
		if j >= 0 {
			next = i + j + 2
		}
		line := body[i:next]
		continuation := len(line) > 0 && (line[0] == ' ' || line[0] == '\t')
		if !continuation {
			skipping = len(line) >= 12 && bytes.EqualFold(line[:12], []byte("Return-Path:"))
		}
		if skipping {
			if out == nil {
				out = make([]byte, 0, len(body))
			}
			out = append(out, body[kept:i]...)
			kept = next
		}
		i = next
	}
	if out == nil {
		return body
	}
	return append(out, body[kept:]...)
}

// tlsNotRequired reports whether the message's header has "TLS-Required:
// No" (RFC 8689 §3): its sender lets it go without the recipient domain's
// TLS policies.
func tlsNotRequired(body []byte) bool {
	end := bytes.Index(body, []byte("\r\n\r\n"))
	if end < 0 {
		end = len(body)
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(append(body[:end:end], "\r\n\r\n"...)))).ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return false
	}
	v := h.Values("Tls-Required")
	// RFC 8689 §3: one field, value "No" (case-insensitive).
	return len(v) == 1 && strings.EqualFold(strings.TrimSpace(v[0]), "No")
}
