package imap

import "github.com/emersion/go-imap/v2"

// cmdExpunge: EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1,
// RFC 9051 §6.4.9).
func cmdExpunge(s *session, c *command) error {
	var uids *imap.UIDSet
	if c.uid {
		set, err := c.dec.ReadUIDExpunge()
		if err != nil {
			return err
		}
		if imap.IsSearchRes(set) {
			set = s.sel.searchRes
		}
		uids = &set
	} else if err := c.dec.End(); err != nil {
		return err
	}
	if s.sel.readOnly {
		return errReadOnly
	}
	return s.Expunge(s.updates(), uids)
}
