package imap

import (
	"slices"
	"strings"
	"sync"

	"github.com/emersion/go-imap/v2"
)

// Keywords a client has been told about. RFC 3501 §7.2.6 and RFC 9051
// §7.3.5: the untagged FLAGS response names the flags applicable in the
// mailbox, and a client may take a keyword it has not seen there for a
// protocol error (Dovecot's imaptest does), so a keyword first appears
// in an untagged FLAGS before any FETCH FLAGS carries it. SELECT announces
// the keywords its snapshot holds; report announces the ones a new
// snapshot brings (set by this session or any other, on any node) before
// it writes the changes; FETCH and STORE, which cannot write FLAGS in the
// middle of their responses, leave out a keyword not yet announced and
// let the poll at the end of the command report the message's flags
// again, after the announcement.

// initKeywords sets the announced keywords to those flags holds (SELECT's
// FLAGS response).
func (sel *selected) initKeywords(flags []imap.Flag) {
	sel.keywords = nil
	sel.knownKeywords = map[string]bool{}
	for _, f := range flags {
		if k := strings.ToLower(string(f)); !strings.HasPrefix(k, `\`) && !sel.knownKeywords[k] {
			sel.knownKeywords[k] = true
			sel.keywords = append(sel.keywords, f)
		}
	}
}

// newKeywords adds the keywords of cur's messages that the client has not
// been told about and reports whether there were any: then the caller
// writes an untagged FLAGS of mailboxFlags before anything else. It reads
// the snapshot's keyword list, made once per snapshot for all its
// sessions, so an idle session costs the keywords, not the messages.
func (sel *selected) newKeywords(cur *snapshot) bool {
	if sel.knownKeywords == nil {
		sel.knownKeywords = map[string]bool{}
	}
	grew := false
	for _, f := range cur.keywords() {
		if k := strings.ToLower(f); !sel.knownKeywords[k] {
			sel.knownKeywords[k] = true
			sel.keywords = append(sel.keywords, imap.Flag(f))
			grew = true
		}
	}
	return grew
}

// keywordCache is a snapshot's keywords, computed on first use.
type keywordCache struct {
	once sync.Once
	list []string
}

// keywords are the distinct keywords (case-insensitively) s's messages
// hold, in the order first met.
func (s *snapshot) keywords() []string {
	s.kw.once.Do(func() {
		seen := map[string]bool{}
		for _, m := range s.msgs {
			for _, f := range m.flags {
				if k := strings.ToLower(f); !strings.HasPrefix(f, `\`) && !seen[k] {
					seen[k] = true
					s.kw.list = append(s.kw.list, f)
				}
			}
		}
	})
	return s.kw.list
}

// mailboxFlags is the untagged FLAGS list: the system flags and every
// keyword announced.
func (sel *selected) mailboxFlags() []imap.Flag {
	return append(slices.Clone(systemFlags), sel.keywords...)
}

// visibleFlags is flags without the keywords not announced yet; hidden
// is true when one was left out.
func (sel *selected) visibleFlags(flags []string) (out []imap.Flag, hidden bool) {
	out = make([]imap.Flag, 0, len(flags))
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !sel.knownKeywords[strings.ToLower(f)] {
			hidden = true
			continue
		}
		out = append(out, imap.Flag(f))
	}
	return out, hidden
}

// reportAgain makes the next report write uid's flags even if this
// session's own change set them (suppress) and forgets uid's flags in the
// view, so that they differ from the current ones: for a FETCH or STORE
// response that had to leave out a keyword not yet announced.
func (sel *selected) reportAgain(uid uint32) {
	delete(sel.suppress, uid)
	if sel.again == nil {
		sel.again = map[uint32]bool{}
	}
	sel.again[uid] = true
}
