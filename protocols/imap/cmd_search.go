package imap

// cmdSearch: SEARCH and UID SEARCH (RFC 9051 §6.4.4).
func cmdSearch(s *session, c *command) error {
	return bad("SEARCH: not yet")
}
