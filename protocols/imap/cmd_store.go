package imap

import (
	"github.com/emersion/go-imap/v2"
)

// cmdStore: STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS or
// -FLAGS, with .SILENT (wire.ReadStore).
func cmdStore(s *session, c *command) error {
	sc, err := c.dec.ReadStore(c.uid)
	if err != nil {
		return err
	}
	var opts *imap.StoreOptions
	if sc.HasUnchangedSince {
		// RFC 7162 §3.1.3 (cmd_condstore.go).
		s.enableCondstore()
		opts = &imap.StoreOptions{UnchangedSince: sc.UnchangedSince}
	}
	modified, err := s.Store(&fetchWriter{s: s}, sc.NumSet, &sc.Flags, opts)
	if err != nil {
		return err
	}
	if modified != nil {
		c.code = "MODIFIED " + modified.String()
		c.text = "Conditional STORE failed"
	}
	return nil
}
