package imap

// cmdCopy: COPY and UID COPY (RFC 9051 §6.4.7) with COPYUID (RFC 4315 §3).
func cmdCopy(s *session, c *command) error {
	set, dest, err := c.dec.ReadCopy(c.uid)
	if err != nil {
		return err
	}
	data, err := s.Copy(set, dest)
	if err != nil {
		return err
	}
	if data != nil {
		c.code = copyUIDCode(data)
	}
	return nil
}

// cmdMove: MOVE and UID MOVE (RFC 6851): COPYUID in an untagged OK, then
// the EXPUNGEs.
func cmdMove(s *session, c *command) error {
	set, dest, err := c.dec.ReadCopy(c.uid)
	if err != nil {
		return err
	}
	return s.Move(s.updates(), set, dest)
}
