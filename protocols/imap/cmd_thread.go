package imap

import (
	"github.com/surat-mail/surat/protocols/imap/sortthread"
)

// cmdThread: THREAD and UID THREAD (RFC 5256 §3) with ORDEREDSUBJECT,
// REFERENCES or REFS (draft-ietf-morg-inthread-01, as Dovecot serves it):
//
//	thread = ["UID" SP] "THREAD" SP thread-alg SP search-criteria
//
// The search program picks the messages (search.go), sort.go threads
// them; the answer is one THREAD response (§4), "* THREAD" alone when
// nothing matched.
func cmdThread(s *session, c *command) error {
	tc, err := c.dec.ReadThread(c.uid)
	if err != nil {
		return err
	}
	alg, ok := sortthread.ParseAlgorithm(tc.Algorithm)
	if !ok {
		return bad("Unknown threading algorithm " + tc.Algorithm)
	}
	idx, err := s.sortSearch(tc.Charset, &tc.Search, false)
	if err != nil {
		return err
	}
	threads, err := s.srv.threadView(s.sel.view, idx, alg, c.uid)
	if err != nil {
		return replyFor(err)
	}
	s.enc.Untagged().Atom("THREAD")
	if len(threads) > 0 {
		s.enc.SP().Raw(string(sortthread.AppendThreads(nil, threads)))
	}
	return s.enc.CRLF().Err()
}
