package imap

import "github.com/emersion/go-imap/v2"

// cmdExpunge: EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1,
// RFC 9051 §6.4.9).
func cmdExpunge(s *session, c *command) error {
	d := c.dec
	var uids *imap.UIDSet
	if c.uid {
		if err := d.SP(); err != nil {
			return err
		}
		set, err := d.UIDSet()
		if err != nil {
			return err
		}
		if imap.IsSearchRes(set) {
			set = s.sel.searchRes
		}
		uids = &set
	}
	if err := d.End(); err != nil {
		return err
	}
	if s.sel.readOnly {
		return errReadOnly
	}
	return s.Expunge(s.updates(), uids)
}
