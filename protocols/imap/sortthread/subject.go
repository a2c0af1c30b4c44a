package sortthread

import "strings"

// BaseSubject extracts the base subject of a Subject header value (RFC
// 5256 §2.1), not yet collated, and reports whether the message is a
// reply or forward: whether the extraction removed a subj-refwd, a
// "(fwd)" subj-trailer, or a subj-fwd-hdr and subj-fwd-trl (RFC 5256 §3,
// REFERENCES step 5.B).
func BaseSubject(value string) (base string, replyOrForward bool) {
	// (1) RFC 2047 encoded words to UTF-8; tabs and continuations to
	// space; runs of spaces to one.
	s := packSpace(decodeWords(value))
	for {
		// (2) Remove trailing subj-trailer ("(fwd)" / WSP), repeatedly.
		for {
			if strings.HasSuffix(s, " ") {
				s = s[:len(s)-1]
			} else if len(s) >= 5 && strings.EqualFold(s[len(s)-5:], "(fwd)") {
				s = s[:len(s)-5]
				replyOrForward = true
			} else {
				break
			}
		}
		// (5) Repeat (3) and (4) until neither removes anything.
		for {
			changed := false
			// (3) Remove prefix text matching subj-leader, repeatedly:
			// subj-leader = (*subj-blob subj-refwd) / WSP.
			for {
				if strings.HasPrefix(s, " ") {
					s = s[1:]
					changed = true
					continue
				}
				if n := leader(s); n > 0 {
					s = s[n:]
					changed, replyOrForward = true, true
					continue
				}
				break
			}
			// (4) Remove a leading subj-blob if what is left is a
			// non-empty subj-base. Every blob of a leading run goes at
			// once: (3) found no subj-refwd after the run, and removing
			// its first blob leaves the same text after it, so going back
			// to (3) after each would only rescan the run (quadratic in a
			// long Subject of blobs).
			for {
				n := blob(s)
				if n == 0 || n >= len(s) {
					break
				}
				s = s[n:]
				changed = true
			}
			if !changed {
				break
			}
		}
		// (6) "[fwd:" ... "]": remove both and repeat from (2).
		if len(s) >= 6 && strings.EqualFold(s[:5], "[fwd:") && s[len(s)-1] == ']' {
			s = s[5 : len(s)-1]
			replyOrForward = true
			continue
		}
		return s, replyOrForward
	}
}

// packSpace turns tabs, CR and LF into spaces and runs of spaces into
// one.
func packSpace(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\t' || c == '\r' || c == '\n' || (c == ' ' && i+1 < len(s) && s[i+1] == ' ') {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if !space {
				b.WriteByte(' ')
			}
			space = true
			continue
		}
		space = false
		b.WriteByte(c)
	}
	return b.String()
}

// blob is the length of the subj-blob at the start of s (RFC 5256 §5:
// "[" *BLOBCHAR "]" *WSP), or 0. BLOBCHAR is any character but "[" and
// "]": 8-bit text is allowed in it, as in the rest of the subject.
func blob(s string) int {
	if !strings.HasPrefix(s, "[") {
		return 0
	}
	i := 1
	for i < len(s) && s[i] != '[' && s[i] != ']' {
		i++
	}
	if i >= len(s) || s[i] != ']' {
		return 0
	}
	i++
	for i < len(s) && s[i] == ' ' {
		i++
	}
	return i
}

// leader is the length of the subj-blob* subj-refwd at the start of s
// (RFC 5256 §5: subj-refwd = ("re" / ("fw" ["d"])) *WSP [subj-blob] ":"),
// or 0.
func leader(s string) int {
	i := 0
	for {
		n := blob(s[i:])
		if n == 0 {
			break
		}
		i += n
	}
	rest := s[i:]
	switch {
	case len(rest) >= 2 && strings.EqualFold(rest[:2], "re"):
		i += 2
	case len(rest) >= 3 && strings.EqualFold(rest[:3], "fwd"):
		i += 3
	case len(rest) >= 2 && strings.EqualFold(rest[:2], "fw"):
		i += 2
	default:
		return 0
	}
	for i < len(s) && s[i] == ' ' {
		i++
	}
	i += blob(s[i:])
	if i < len(s) && s[i] == ':' {
		return i + 1
	}
	return 0
}
