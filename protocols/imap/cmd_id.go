package imap

// cmdID: ID (RFC 2971): the client's identification (wire.ReadID, within
// RFC 2971 §3.3's bounds) is read and dropped; the answer names the
// server, as Dovecot's does.
func cmdID(s *session, c *command) error {
	if _, err := c.dec.ReadID(); err != nil {
		return err
	}
	s.enc.Untagged().Atom("ID").SP().Open().Quoted("name").SP().Quoted("Surat").Close().CRLF()
	return s.enc.Err()
}
