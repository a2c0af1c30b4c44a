package imap

// cmdFetch: FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9); the grammar is
// wire.ReadFetch, the work session.Fetch (fetch.go).
func cmdFetch(s *session, c *command) error {
	fc, err := c.dec.ReadFetch(c.uid)
	if err != nil {
		return err
	}
	return s.Fetch(&fetchWriter{s: s, obsolete: fc.Options.Obsolete, ext: newFetchExt(&fc.Options)}, fc.NumSet, &fc.Options.FetchOptions)
}
