package imap

import (
	"errors"
	"io"
	"net"
	"os"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// connState is a connection state (RFC 9051 §3), one bit each, so that a
// command names the states it is allowed in.
type connState uint8

const (
	stateNotAuthenticated connState = 1 << iota
	stateAuthenticated
	stateSelected
	stateLogout
)

// The sets of states commands are allowed in.
const (
	anyState   = stateNotAuthenticated | stateAuthenticated | stateSelected
	notAuth    = stateNotAuthenticated
	authed     = stateAuthenticated | stateSelected
	inSelected = stateSelected
)

func (st connState) String() string {
	switch st {
	case stateNotAuthenticated:
		return "not authenticated"
	case stateAuthenticated:
		return "authenticated"
	case stateSelected:
		return "selected"
	case stateLogout:
		return "logout"
	}
	return "unknown"
}

// command is one command being served. The handler reads its arguments
// from dec (positioned after the name) up to and including the CRLF
// (dec.End), then does its work, writing untagged responses through the
// session's encoder (s.enc). It returns nil for the tagged OK, which the
// dispatcher writes (with code and text if the handler set them), or an
// error: a *imap.Error (NO, BAD, or BYE), a *wire.SyntaxError (BAD), or
// any other error, which is logged and answered NO [SERVERBUG] — unless
// the connection failed, which ends the session.
type command struct {
	tag  string
	name string // upper case; "UID FETCH" for the UID forms
	uid  bool   // a UID command (RFC 9051 §6.4.9)
	dec  *wire.Decoder

	// code is the response code of the tagged OK, without brackets
	// ("APPENDUID 38505 3955"); text replaces "<name> completed".
	code, text string
	// after runs once the tagged OK is sent (STARTTLS's handshake).
	after func() error
}

// handler serves one command (see command).
type handler func(s *session, c *command) error

// commandSpec is one line of the command table.
type commandSpec struct {
	states connState // where the command is allowed
	run    handler
	// noExpunge: no EXPUNGE responses at the end of this command (RFC
	// 9051 §7.4.1: not during FETCH, STORE or SEARCH, whose sequence
	// numbers the client may be using; the UID forms may have them).
	noExpunge bool
}

// commands is the one table of the commands served: name (upper case,
// "UID X" for a UID form), the states it is allowed in, its handler. A new
// command is one line here and a cmd_<name>.go file.
var commands = map[string]commandSpec{
	"CAPABILITY":     {states: anyState, run: cmdCapability},
	"NOOP":           {states: anyState, run: cmdNoop},
	"LOGOUT":         {states: anyState, run: cmdLogout},
	"ID":             {states: anyState, run: cmdID},
	"STARTTLS":       {states: notAuth, run: cmdStartTLS},
	"LOGIN":          {states: notAuth, run: cmdLogin},
	"AUTHENTICATE":   {states: notAuth, run: cmdAuthenticate},
	"UNAUTHENTICATE": {states: authed, run: cmdUnauthenticate},
	"ENABLE":         {states: authed, run: cmdEnable},
	"SELECT":         {states: authed, run: cmdSelect},
	"EXAMINE":        {states: authed, run: cmdSelect},
	"CREATE":         {states: authed, run: cmdCreate},
	"DELETE":         {states: authed, run: cmdDelete},
	"RENAME":         {states: authed, run: cmdRename},
	"SUBSCRIBE":      {states: authed, run: cmdSubscribe},
	"UNSUBSCRIBE":    {states: authed, run: cmdSubscribe},
	"LIST":           {states: authed, run: cmdList},
	"LSUB":           {states: authed, run: cmdList},
	"NAMESPACE":      {states: authed, run: cmdNamespace},
	"STATUS":         {states: authed, run: cmdStatus},
	"APPEND":         {states: authed, run: cmdAppend},
	"IDLE":           {states: authed, run: cmdIdle},
	"CHECK":          {states: inSelected, run: cmdNoop},
	"CLOSE":          {states: inSelected, run: cmdClose},
	"UNSELECT":       {states: inSelected, run: cmdClose},
	"EXPUNGE":        {states: inSelected, run: cmdExpunge},
	"UID EXPUNGE":    {states: inSelected, run: cmdExpunge},
	"SEARCH":         {states: inSelected, run: cmdSearch, noExpunge: true},
	"UID SEARCH":     {states: inSelected, run: cmdSearch},
	"FETCH":          {states: inSelected, run: cmdFetch, noExpunge: true},
	"UID FETCH":      {states: inSelected, run: cmdFetch},
	"STORE":          {states: inSelected, run: cmdStore, noExpunge: true},
	"UID STORE":      {states: inSelected, run: cmdStore},
	"COPY":           {states: inSelected, run: cmdCopy},
	"UID COPY":       {states: inSelected, run: cmdCopy},
	"MOVE":           {states: inSelected, run: cmdMove},
	"UID MOVE":       {states: inSelected, run: cmdMove},
	"SORT":           {states: inSelected, run: cmdSort, noExpunge: true},
	"UID SORT":       {states: inSelected, run: cmdSort},
	"THREAD":         {states: inSelected, run: cmdThread, noExpunge: true},
	"UID THREAD":     {states: inSelected, run: cmdThread},
	"GETQUOTA":       {states: authed, run: cmdGetQuota},
	"GETQUOTAROOT":   {states: authed, run: cmdGetQuotaRoot},
	"SETQUOTA":       {states: authed, run: cmdSetQuota},
	"COMPRESS":       {states: authed, run: cmdCompress},
	"SETACL":         {states: authed, run: cmdSetACL},
	"DELETEACL":      {states: authed, run: cmdDeleteACL},
	"GETACL":         {states: authed, run: cmdGetACL},
	"LISTRIGHTS":     {states: authed, run: cmdListRights},
	"MYRIGHTS":       {states: authed, run: cmdMyRights},
	"GETMETADATA":    {states: authed, run: cmdGetMetadata},
	"SETMETADATA":    {states: authed, run: cmdSetMetadata},
	"NOTIFY":         {states: authed, run: cmdNotify},
	"CANCELUPDATE":   {states: inSelected, run: cmdCancelUpdate}, // RFC 5267 §4.5
}

// errSessionEnded is serveCommand's answer once the session must end (a
// BYE is pending or was sent).
var errSessionEnded = errors.New("imap: session ended")

// serveCommand reads one command and answers it. An error ends the
// session.
func (s *session) serveCommand() error {
	wait := preAuthIdle
	if s.state&authed != 0 {
		wait = authIdle
	}
	s.setReadDeadline(wait)
	if s.bye.Load() != nil {
		return errSessionEnded
	}
	if s.notify != nil {
		// RFC 5465 §3: notifications go out between commands too.
		if err := s.awaitCommand(); err != nil {
			return err
		}
	} else if _, err := s.br.Peek(1); err != nil {
		return err
	}
	s.setReadDeadline(commandRead)
	tag, name, err := s.dec.Begin()
	c := &command{tag: tag, name: name, dec: s.dec}
	if err != nil {
		return s.answer(c, commandSpec{}, err)
	}
	c.uid = len(name) > 4 && name[:4] == "UID "
	spec, ok := commands[name]
	switch {
	case !ok:
		if s.state == stateNotAuthenticated {
			// One unknown command before login ends the session: the
			// client may be another protocol's, sent here by a web page
			// (cross-protocol attacks).
			s.requestBye("Unknown command")
		}
		err = &imap.Error{Type: imap.StatusResponseTypeBad, Text: "Unknown command"}
	case spec.states&s.state == 0:
		err = bad("Command not allowed in the " + s.state.String() + " state")
	default:
		if err = s.checkRights(name); err == nil { // shared.go
			err = spec.run(s, c)
		}
	}
	return s.answer(c, spec, err)
}

// answer writes the tagged response to c given its handler's result
// (command's doc), after the unilateral updates when it succeeded.
func (s *session) answer(c *command, spec commandSpec, err error) error {
	tag := c.tag
	if tag == "" {
		tag = "*"
	}
	var (
		ie  *imap.Error
		se  *wire.SyntaxError
		bye *byeError
	)
	switch {
	case err == nil:
		if s.state&authed != 0 {
			s.syncRights() // an ACL changed during the command (shared.go)
			if err := s.Poll(s.updates(), !spec.noExpunge); err != nil {
				return err
			}
			s.announceHighestModseq() // RFC 7162 §3.1 (cmd_condstore.go)
			// RFC 5465: what NOTIFY has waiting (notify.go), the
			// command's own changes among it.
			if s.notify != nil {
				s.srv.hub.awaitHandled(s.ctx)
			}
			if err := s.deliverNotifications(); err != nil {
				return err
			}
		}
		text := c.text
		if text == "" {
			text = c.name + " completed"
		}
		s.enc.Status(tag, "OK", c.code, text)
	case errors.As(err, &bye):
		s.requestBye(bye.text)
		return errSessionEnded
	case errors.As(err, &ie):
		if ie.Type == imap.StatusResponseTypeBye {
			s.requestBye(ie.Text)
			return errSessionEnded
		}
		s.enc.Status(tag, string(ie.Type), string(ie.Code), ie.Text)
	case errors.As(err, &se):
		if se.Fatal {
			s.requestBye(se.Text)
			return errSessionEnded
		}
		typ := "BAD"
		if se.No {
			typ = "NO"
		}
		s.enc.Status(tag, typ, se.Code, se.Text)
	case connectionError(err) || s.enc.Err() != nil:
		return err
	default:
		s.log.Warn("imap command failed", "command", c.name, "err", err)
		s.enc.Status(tag, "NO", string(imap.ResponseCodeServerBug), "Internal server error")
	}
	if s.dec.InCommand() {
		if derr := s.dec.Discard(); derr != nil {
			if se, ok := wire.IsSyntax(derr); ok && !se.Fatal {
				// Nothing left to skip that the client will send.
			} else {
				if ok {
					s.requestBye(se.Text)
				}
				_ = s.flush()
				return errSessionEnded
			}
		}
	}
	if ferr := s.flush(); ferr != nil {
		return ferr
	}
	if err == nil && c.after != nil {
		return c.after()
	}
	return nil
}

// connectionError reports an error of the connection itself (gone, timed
// out): the session ends without an answer.
func connectionError(err error) bool {
	var ne net.Error
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed) ||
		errors.Is(err, os.ErrDeadlineExceeded) || errors.As(err, &ne)
}

// byeError ends the session with "* BYE text" instead of a tagged answer.
type byeError struct{ text string }

func (e *byeError) Error() string { return "imap: BYE " + e.text }
