package imap

// cmdFetch: FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9); the grammar is
// wire.ReadFetch, the work session.Fetch (fetch.go).
func cmdFetch(s *session, c *command) error {
	fc, err := c.dec.ReadFetch(c.uid)
	if err != nil {
		return err
	}
	if fc.Options.ModSeq || fc.Options.HasChangedSince {
		s.enableCondstore() // RFC 7162 §3.1 (cmd_condstore.go)
	}
	if err := s.fetchVanished(fc); err != nil {
		return err
	}
	return s.Fetch(&fetchWriter{s: s, obsolete: fc.Options.Obsolete}, fc.NumSet, &fc.Options.FetchOptions)
}
