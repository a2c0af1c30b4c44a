package managesieve

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// maxNameBytes bounds a script name: RFC 5804 §1.6 asks servers to allow
// at least 128 octets; the SieveScriptPut event keeps to that.
const maxNameBytes = 128

// validName reports whether name is a script name RFC 5804 §1.6 allows:
// non-empty UTF-8 in Unicode Normalization Form C (Net-Unicode, RFC 5198
// §2) without control characters (U+0000-U+001F, U+007F, U+0080-U+009F)
// and without the line and paragraph separators (U+2028, U+2029), at most
// maxNameBytes octets. A name in another form is refused rather than
// normalized, so that a client never stores one name and lists another.
func validName(name string) bool {
	if name == "" || len(name) > maxNameBytes || !utf8.ValidString(name) || !norm.NFC.IsNormalString(name) {
		return false
	}
	for _, r := range name {
		if r < 0x20 || (r >= 0x7f && r <= 0x9f) || r == 0x2028 || r == 0x2029 {
			return false
		}
	}
	return true
}

// scriptCommand runs a command of the authenticated state.
func (s *session) scriptCommand(cmd command) bool {
	n := len(cmd.args)
	want := map[string]int{"PUTSCRIPT": 2, "LISTSCRIPTS": 0, "SETACTIVE": 1, "GETSCRIPT": 1,
		"DELETESCRIPT": 1, "RENAMESCRIPT": 2, "CHECKSCRIPT": 1, "HAVESPACE": 2}[cmd.name]
	if n != want {
		return s.badCommand(cmd.name + " takes " + strconv.Itoa(want) + " arguments")
	}
	for i, a := range cmd.args {
		// Only HAVESPACE's size is a number (an atom); the rest are
		// strings. A lenient client's unquoted name is taken as well.
		if cmd.name == "HAVESPACE" && i == 1 && !a.atom {
			return s.badCommand("HAVESPACE: the size is a number")
		}
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.StoreTimeout)
	defer cancel()
	// The command was read in full: a client gone meanwhile ends the
	// wait (a commit already proposed still happens).
	defer s.watchClient()()
	switch cmd.name {
	case "PUTSCRIPT":
		s.putScript(ctx, cmd.args[0].s, []byte(cmd.args[1].s))
	case "LISTSCRIPTS":
		s.listScripts(ctx)
	case "SETACTIVE":
		s.setActive(ctx, cmd.args[0].s)
	case "GETSCRIPT":
		s.getScript(ctx, cmd.args[0].s)
	case "DELETESCRIPT":
		s.deleteScript(ctx, cmd.args[0].s)
	case "RENAMESCRIPT":
		s.renameScript(ctx, cmd.args[0].s, cmd.args[1].s)
	case "CHECKSCRIPT":
		s.checkScript([]byte(cmd.args[0].s))
	case "HAVESPACE":
		s.haveSpace(ctx, cmd.args[0].s, cmd.args[1].s)
	}
	return true
}

// check validates src with Config.Check: "" when valid, else the
// human-readable reason (the compile error, with its line number).
func (s *session) check(src []byte) string {
	if !utf8.Valid(src) {
		return "Script is not valid UTF-8 (RFC 5228 §2.2)"
	}
	if s.cfg.Check == nil {
		return ""
	}
	if err := s.cfg.Check(src); err != nil {
		msg := err.Error()
		if msg == "" {
			msg = "Script is not valid"
		}
		return msg
	}
	return ""
}

// putScript is PUTSCRIPT (RFC 5804 §2.6): check, then store.
func (s *session) putScript(ctx context.Context, name string, src []byte) {
	if !validName(name) {
		s.no("", "Invalid script name")
		return
	}
	if int64(len(src)) > s.cfg.Limits.MaxScriptBytes {
		s.no("QUOTA/MAXSIZE", "Script too large")
		return
	}
	if reason := s.check(src); reason != "" {
		s.log.Info("managesieve script refused", "script", name, "reason", reason)
		s.no("", reason)
		return
	}
	if ok := s.haveRoom(ctx, name); !ok {
		return
	}
	if err := s.cfg.Scripts.Put(ctx, s.user, name, src, s.cfg.Limits); err != nil {
		s.storeFailed("PUTSCRIPT", name, err)
		return
	}
	s.log.Info("managesieve script stored", "script", name, "size", len(src))
	s.ok("", "Script stored")
}

// haveRoom answers NO (QUOTA/MAXSCRIPTS) and false when a new script of
// that name would be one too many (the store decides again at commit).
func (s *session) haveRoom(ctx context.Context, name string) bool {
	list, err := s.cfg.Scripts.List(ctx, s.user)
	if err != nil {
		s.storeFailed("LISTSCRIPTS", "", err)
		return false
	}
	for _, sc := range list {
		if sc.Name == name {
			return true // a replacement
		}
	}
	if len(list) >= s.cfg.Limits.MaxScripts {
		s.no("QUOTA/MAXSCRIPTS", "Too many scripts (at most "+strconv.Itoa(s.cfg.Limits.MaxScripts)+")")
		return false
	}
	return true
}

// listScripts is LISTSCRIPTS (RFC 5804 §2.7).
func (s *session) listScripts(ctx context.Context) {
	list, err := s.cfg.Scripts.List(ctx, s.user)
	if err != nil {
		s.storeFailed("LISTSCRIPTS", "", err)
		return
	}
	for _, sc := range list {
		s.out = appendString(s.out[:0], []byte(sc.Name))
		if sc.Active {
			s.out = append(s.out, " ACTIVE"...)
		}
		s.out = append(s.out, "\r\n"...)
		s.w.Write(s.out)
	}
	s.ok("", "Listscripts completed")
}

// setActive is SETACTIVE (RFC 5804 §2.8); "" deactivates. The script is
// checked again: it may predate the extensions this node accepts.
func (s *session) setActive(ctx context.Context, name string) {
	if name != "" {
		if !validName(name) {
			s.no("NONEXISTENT", "There is no script of that name")
			return
		}
		src, err := s.cfg.Scripts.Get(ctx, s.user, name)
		if err != nil {
			s.storeFailed("SETACTIVE", name, err)
			return
		}
		if reason := s.check(src); reason != "" {
			s.no("", "Script not activated: "+reason)
			return
		}
	}
	if err := s.cfg.Scripts.Activate(ctx, s.user, name); err != nil {
		s.storeFailed("SETACTIVE", name, err)
		return
	}
	s.log.Info("managesieve script activated", "script", name)
	s.ok("", "Active script set")
}

// getScript is GETSCRIPT (RFC 5804 §2.9): the script as a literal.
func (s *session) getScript(ctx context.Context, name string) {
	if !validName(name) {
		s.no("NONEXISTENT", "There is no script of that name")
		return
	}
	src, err := s.cfg.Scripts.Get(ctx, s.user, name)
	if err != nil {
		s.storeFailed("GETSCRIPT", name, err)
		return
	}
	// Always a literal (literal-s2c), whatever the script holds.
	s.out = append(s.out[:0], '{')
	s.out = strconv.AppendInt(s.out, int64(len(src)), 10)
	s.out = append(s.out, "}\r\n"...)
	s.w.Write(s.out)
	s.w.Write(src)
	s.w.WriteString("\r\n")
	s.ok("", "Getscript completed")
}

// deleteScript is DELETESCRIPT (RFC 5804 §2.10).
func (s *session) deleteScript(ctx context.Context, name string) {
	if !validName(name) {
		s.no("NONEXISTENT", "There is no script of that name")
		return
	}
	if err := s.cfg.Scripts.Delete(ctx, s.user, name); err != nil {
		s.storeFailed("DELETESCRIPT", name, err)
		return
	}
	s.log.Info("managesieve script deleted", "script", name)
	s.ok("", "Script deleted")
}

// renameScript is RENAMESCRIPT (RFC 5804 §2.11.1).
func (s *session) renameScript(ctx context.Context, oldName, newName string) {
	if !validName(oldName) {
		s.no("NONEXISTENT", "There is no script of that name")
		return
	}
	if !validName(newName) {
		s.no("", "Invalid script name")
		return
	}
	if err := s.cfg.Scripts.Rename(ctx, s.user, oldName, newName); err != nil {
		s.storeFailed("RENAMESCRIPT", oldName, err)
		return
	}
	s.log.Info("managesieve script renamed", "script", oldName, slog.Group("to", "script", newName))
	s.ok("", "Script renamed")
}

// checkScript is CHECKSCRIPT (RFC 5804 §2.12): validation only.
func (s *session) checkScript(src []byte) {
	if int64(len(src)) > s.cfg.Limits.MaxScriptBytes {
		s.no("QUOTA/MAXSIZE", "Script too large")
		return
	}
	if reason := s.check(src); reason != "" {
		s.no("", reason)
		return
	}
	s.ok("", "Script is valid")
}

// haveSpace is HAVESPACE (RFC 5804 §2.5).
func (s *session) haveSpace(ctx context.Context, name, size string) {
	if !validName(name) {
		s.no("", "Invalid script name")
		return
	}
	n, err := parseNumber([]byte(size))
	if err != nil {
		s.no("", "Invalid size")
		return
	}
	if int64(n) > s.cfg.Limits.MaxScriptBytes {
		s.no("QUOTA/MAXSIZE", "Script too large (at most "+strconv.FormatInt(s.cfg.Limits.MaxScriptBytes, 10)+" octets)")
		return
	}
	if !s.haveRoom(ctx, name) {
		return
	}
	s.ok("", "Putscript would succeed")
}

// storeFailed answers a Scripts error with its RFC 5804 §1.3 response
// code. An error that is none of the sentinels is temporary (TRYLATER):
// a storage failure is never told as a permanent refusal.
func (s *session) storeFailed(op, name string, err error) {
	switch {
	case errors.Is(err, ErrNonexistent):
		s.no("NONEXISTENT", "There is no script of that name")
	case errors.Is(err, ErrAlreadyExists):
		s.no("ALREADYEXISTS", "A script of that name exists")
	case errors.Is(err, ErrActive):
		s.no("ACTIVE", "The active script cannot be deleted")
	case errors.Is(err, ErrQuotaMaxScripts):
		s.no("QUOTA/MAXSCRIPTS", "Too many scripts")
	case errors.Is(err, ErrQuotaMaxSize):
		s.no("QUOTA/MAXSIZE", "Script too large")
	case errors.Is(err, ErrQuota):
		s.no("QUOTA", "Over quota")
	default:
		s.log.Warn("managesieve "+op+" failed", "script", name, "err", err)
		s.no("TRYLATER", "Temporary failure, try again later")
	}
}
