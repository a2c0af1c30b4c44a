package imap

import "strings"

// enableable are the extensions ENABLE turns on (RFC 5161 §3.1), each
// with what it changes in the session. One line per extension.
var enableable = map[string]func(s *session){
	"IMAP4REV2":   func(s *session) { s.rev2 = true },
	"UTF8=ACCEPT": func(s *session) { s.utf8 = true },
	"CONDSTORE":   func(s *session) { s.enableCondstore() }, // RFC 7162 §3.1
	"QRESYNC":     func(s *session) { s.enableQresync() },   // RFC 7162 §3.2.3
}

// cmdEnable: ENABLE (RFC 5161): the extensions named that the server
// knows are enabled and listed in "* ENABLED"; others are ignored.
func cmdEnable(s *session, c *command) error {
	d := c.dec
	var names []string
	for {
		ok, err := d.Maybe(' ')
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		a, err := d.Atom()
		if err != nil {
			return err
		}
		names = append(names, a)
	}
	if len(names) == 0 {
		return bad("ENABLE needs at least one extension")
	}
	if err := d.End(); err != nil {
		return err
	}
	s.enc.Untagged().Atom("ENABLED")
	for _, n := range names {
		if on, ok := enableable[strings.ToUpper(n)]; ok {
			on(s)
			s.enc.SP().Atom(n)
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
