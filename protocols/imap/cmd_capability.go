package imap

import "strings"

// Capabilities advertised (doc.go lists them with their RFCs). The lists
// are read only; an extension adds its name to one of them.
var (
	// baseCapabilities are advertised in every state.
	baseCapabilities = []string{"IMAP4rev1", "IMAP4rev2", "SASL-IR", "LITERAL+", "ID", "ENABLE", "IDLE"}
	// authCapabilities are added once logged in (APPENDLIMIT=n too).
	authCapabilities = []string{
		"UNSELECT", "UTF8=ACCEPT", "NAMESPACE", "UIDPLUS", "ESEARCH", "SEARCHRES",
		"LIST-EXTENDED", "LIST-STATUS", "MOVE", "STATUS=SIZE", "CHILDREN",
		"SPECIAL-USE", "CREATE-SPECIAL-USE", "UNAUTHENTICATE",
		"SORT", "SORT=DISPLAY", "ESORT", "THREAD=ORDEREDSUBJECT", "THREAD=REFERENCES", "THREAD=REFS", // RFC 5256, 5957, 5267
		"CONDSTORE", "QRESYNC", // RFC 7162
		"QUOTA", "QUOTA=RES-STORAGE", "QUOTA=RES-MESSAGE", // RFC 9208
		"COMPRESS=DEFLATE", // RFC 4978
		"BINARY", "MULTIAPPEND", "CATENATE", "PREVIEW", "OBJECTID", "SAVEDATE", "WITHIN",
		"URL-PARTIAL",                                       // RFC 5550 §5: ;PARTIAL= in CATENATE's URLs (catenate.go)
		"ACL", "RIGHTS=texk", "METADATA", "METADATA-SERVER", // RFC 4314, RFC 5464
		"NOTIFY", // RFC 5465
		// CONTEXT=SEARCH and CONTEXT=SORT: RFC 5267 §4 (searchctx.go).
		"CONTEXT=SEARCH", "CONTEXT=SORT",
	}
)

// capabilities lists what the session advertises in its state: STARTTLS
// and LOGINDISABLED before TLS (RFC 9051 §6.2.1, RFC 3501 §6.2.3),
// AUTH=PLAIN after it, the rest once logged in.
func (s *session) capabilities() []string {
	caps := append([]string(nil), baseCapabilities...)
	if s.state == stateNotAuthenticated {
		if s.tls {
			caps = append(caps, "AUTH=PLAIN")
		} else {
			caps = append(caps, "STARTTLS", "LOGINDISABLED")
		}
		return caps
	}
	caps = append(caps, authCapabilities...)
	return append(caps, "APPENDLIMIT="+utoa(s.srv.cfg.AppendLimit))
}

// capabilityCode is the CAPABILITY response code (RFC 9051 §7.1) of the
// greeting and of a login's OK.
func (s *session) capabilityCode() string {
	return "CAPABILITY " + strings.Join(s.capabilities(), " ")
}

// writeGreeting writes the greeting (RFC 9051 §7.1.1), with the
// capabilities so that clients need not ask.
func (s *session) writeGreeting() {
	s.enc.Status("*", "OK", s.capabilityCode(), s.srv.cfg.Hostname+" Surat IMAP ready")
}

// cmdCapability: CAPABILITY (RFC 9051 §6.1.1).
func cmdCapability(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	s.enc.Untagged().Atom("CAPABILITY")
	for _, cp := range s.capabilities() {
		s.enc.SP().Atom(cp)
	}
	return s.enc.CRLF().Err()
}

// cmdNoop: NOOP (RFC 9051 §6.1.2) and CHECK (RFC 3501 §6.4.1): nothing
// but the unilateral updates every command ends with.
func cmdNoop(s *session, c *command) error {
	return c.dec.End()
}

// cmdLogout: LOGOUT (RFC 9051 §6.1.3): BYE, then the tagged OK, then the
// connection is closed.
func cmdLogout(s *session, c *command) error {
	if err := c.dec.End(); err != nil {
		return err
	}
	s.enc.Status("*", "BYE", "", "Logging out")
	s.state = stateLogout
	return nil
}
