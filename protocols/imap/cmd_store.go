package imap

// cmdStore: STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS or
// -FLAGS, with .SILENT (wire.ReadStore).
func cmdStore(s *session, c *command) error {
	sc, err := c.dec.ReadStore(c.uid)
	if err != nil {
		return err
	}
	if sc.HasUnchangedSince {
		return bad("STORE modifier not supported")
	}
	return s.Store(&fetchWriter{s: s}, sc.NumSet, &sc.Flags, nil)
}
