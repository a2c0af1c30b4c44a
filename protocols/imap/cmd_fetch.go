package imap

// cmdFetch: FETCH and UID FETCH (RFC 9051 §6.4.5).
func cmdFetch(s *session, c *command) error {
	return bad("FETCH: not yet")
}
