package imap

import "strings"

// listMatch reports whether the mailbox name matches LIST's reference and
// pattern (RFC 9051 §6.3.9): the reference is prefixed to the pattern (a
// pattern starting with the delimiter ignores it, as Dovecot does), "*"
// matches any run of characters and "%" any run without the hierarchy
// delimiter. The match is linear in len(name) times len(pattern), so a
// hostile pattern costs no backtracking.
func listMatch(name, ref, pattern string) bool {
	if ref != "" && !strings.HasPrefix(pattern, string(delim)) {
		pattern = ref + pattern
	}
	return globMatch(name, pattern)
}

// globMatch is the wildcard match of listMatch, by dynamic programming over
// the pattern: reach[i] is whether name[:i] matches the pattern so far.
func globMatch(name, pattern string) bool {
	reach := make([]bool, len(name)+1)
	next := make([]bool, len(name)+1)
	reach[0] = true
	for p := 0; p < len(pattern); p++ {
		clear(next)
		switch c := pattern[p]; c {
		case '*':
			on := false
			for i := 0; i <= len(name); i++ {
				on = on || reach[i]
				next[i] = on
			}
		case '%':
			on := false
			for i := 0; i <= len(name); i++ {
				if i > 0 && name[i-1] == delim {
					on = false
				}
				on = on || reach[i]
				next[i] = on
			}
		default:
			for i := 0; i < len(name); i++ {
				if reach[i] && name[i] == c {
					next[i+1] = true
				}
			}
		}
		reach, next = next, reach
	}
	return reach[len(name)]
}
