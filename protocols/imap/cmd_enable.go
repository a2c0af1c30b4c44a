package imap

// enableable are the extensions ENABLE turns on (RFC 5161 §3.1), by name
// in upper case: the name as advertised, and what it changes in the
// session. One line per extension.
var enableable = map[string]struct {
	name string
	on   func(s *session)
}{
	"IMAP4REV2":   {"IMAP4rev2", func(s *session) { s.rev2 = true }},
	"UTF8=ACCEPT": {"UTF8=ACCEPT", func(s *session) { s.utf8 = true }},
}

// cmdEnable: ENABLE (RFC 5161): the extensions named that the server
// knows are enabled and listed in "* ENABLED"; others are ignored.
func cmdEnable(s *session, c *command) error {
	names, err := c.dec.ReadEnable()
	if err != nil {
		return err
	}
	s.enc.Untagged().Atom("ENABLED")
	done := map[string]bool{}
	for _, n := range names {
		if ext, ok := enableable[n]; ok && !done[n] {
			done[n] = true
			ext.on(s)
			s.enc.SP().Atom(ext.name)
		}
	}
	s.enc.CRLF()
	s.applyEnabled()
	return s.enc.Err()
}

// applyEnabled sets the wire's behaviour from what is enabled: UTF-8 in
// quoted strings under IMAP4rev2 or UTF8=ACCEPT, UTF-8 mailbox names under
// UTF8=ACCEPT (RFC 9051 §9, RFC 6855 §3).
func (s *session) applyEnabled() {
	s.enc.UTF8 = s.rev2 || s.utf8
	s.enc.UTF8Accept = s.utf8
	s.dec.UTF8Accept = s.utf8
}

// resetEnabled disables every extension enabled (UNAUTHENTICATE).
func (s *session) resetEnabled() {
	s.rev2, s.utf8 = false, false
	s.applyEnabled()
}
