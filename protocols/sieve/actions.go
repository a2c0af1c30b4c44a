package sieve

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// action runs one action command (RFC 5228 §4 and the extensions').
func (st *state) action(f *frame, o *op) error {
	switch o.name {
	case "keep":
		if err := st.afterReject(o); err != nil {
			return err
		}
		flags := st.actionFlags(f, o)
		st.explicitKeep = true
		st.implicitKeep = false
		st.keepFlags = unionFlags(st.keepFlags, flags)
		st.logf("keep")
	case "discard":
		st.discarded = true
		st.implicitKeep = false
		st.logf("discard")
	case "redirect":
		return st.redirect(f, o)
	case "fileinto":
		return st.fileInto(f, o)
	case "reject", "ereject":
		return st.doReject(f, o)
	case "setflag", "addflag", "removeflag":
		return st.flagAction(f, o)
	case "set":
		return st.set(f, o)
	case "vacation":
		return st.doVacation(f, o)
	case "addheader":
		return st.addHeader(f, o)
	case "deleteheader":
		return st.deleteHeader(f, o)
	default:
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("command %q not implemented", o.name)}
	}
	return nil
}

// afterReject refuses keep, fileinto, redirect and vacation once a
// reject has run (RFC 5429 §2.1.3, as Pigeonhole does).
func (st *state) afterReject(o *op) error {
	if st.reject != nil {
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("%w: %s after reject", ErrConflict, o.name)}
	}
	return nil
}

// actionFlags is the flags of a keep or fileinto: its :flags argument,
// else the internal variable's (RFC 5232 §5).
func (st *state) actionFlags(f *frame, o *op) []string {
	if a, ok := o.tags["flags"]; ok {
		return flagList(f.strs(st, a))
	}
	return st.flags
}

// redirect (RFC 5228 §4.2; :copy, RFC 3894). The same address twice is
// one redirect (RFC 5228 §2.10.3).
func (st *state) redirect(f *frame, o *op) error {
	if err := st.afterReject(o); err != nil {
		return err
	}
	to, err := f.str(st, o.pos[0])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	to = redirectAddress(to)
	if !validRedirect(to) {
		// A redirect to a syntactically invalid address is a runtime
		// error (RFC 5228 §4.2).
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("redirect to invalid address %q", to)}
	}
	if !o.has("copy") {
		st.implicitKeep = false
	}
	for _, r := range st.redirects {
		if strings.EqualFold(r, to) {
			return nil
		}
	}
	if len(st.redirects) >= st.lim.MaxRedirects {
		return &RuntimeError{Line: o.line, Err: ErrTooManyRedirects}
	}
	if len(st.redirects)+len(st.fileinto) >= st.lim.MaxActions {
		return &RuntimeError{Line: o.line, Err: ErrTooManyActions}
	}
	st.redirects = append(st.redirects, to)
	st.logf("redirect " + to)
	return nil
}

// fileInto (RFC 5228 §4.1 with :copy, :create and :flags). The same
// mailbox twice is one copy, with the flags of both.
func (st *state) fileInto(f *frame, o *op) error {
	if err := st.afterReject(o); err != nil {
		return err
	}
	mb, err := f.str(st, o.pos[0])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	if mb == "" {
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("fileinto an empty mailbox name")}
	}
	flags := st.actionFlags(f, o)
	if !o.has("copy") {
		st.implicitKeep = false
	}
	for i := range st.fileinto {
		if st.fileinto[i].Mailbox == mb {
			st.fileinto[i].Flags = unionFlags(st.fileinto[i].Flags, flags)
			st.fileinto[i].Create = st.fileinto[i].Create || o.has("create")
			return nil
		}
	}
	if len(st.redirects)+len(st.fileinto) >= st.lim.MaxActions {
		return &RuntimeError{Line: o.line, Err: ErrTooManyActions}
	}
	st.fileinto = append(st.fileinto, FileInto{Mailbox: mb, Create: o.has("create"), Flags: append([]string(nil), flags...)})
	st.logf("fileinto " + strconv.Quote(mb))
	return nil
}

// doReject (RFC 5429 §2.1, §2.2): cancels the implicit keep; one reject
// only, and never with keep, fileinto, redirect or vacation (§2.1.3,
// as Pigeonhole does).
func (st *state) doReject(f *frame, o *op) error {
	switch {
	case st.reject != nil:
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("%w: a second reject", ErrConflict)}
	case st.explicitKeep || len(st.fileinto) > 0 || len(st.redirects) > 0 || st.vacation != nil:
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("%w: %s with keep, fileinto, redirect or vacation", ErrConflict, o.name)}
	}
	reason, err := f.str(st, o.pos[0])
	if err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	st.reject = &Reject{Reason: reason, Extended: o.name == "ereject"}
	st.implicitKeep = false
	st.logf(o.name)
	return nil
}

// doVacation (RFC 5230 §4, RFC 6131 §2): records the action; whether a
// reply goes out is the caller's decision.
func (st *state) doVacation(f *frame, o *op) error {
	if err := st.afterReject(o); err != nil {
		return err
	}
	if st.vacation != nil {
		// RFC 5230 §4.7: at most one vacation per execution.
		return &RuntimeError{Line: o.line, Err: fmt.Errorf("%w: a second vacation", ErrConflict)}
	}
	v := &Vacation{Mime: o.has("mime"), Period: 7 * 24 * time.Hour}
	var err error
	if v.Reason, err = f.str(st, o.pos[0]); err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	if a, ok := o.tags["subject"]; ok {
		if v.Subject, err = f.str(st, a); err != nil {
			return &RuntimeError{Line: o.line, Err: err}
		}
		// RFC 5230 §4.3 takes UTF-8 text; some clients (Roundcube) send
		// it RFC 2047-encoded already: decode, so the reply encodes once.
		v.Subject = decodeHeader(v.Subject)
	}
	if a, ok := o.tags["from"]; ok {
		if v.From, err = f.str(st, a); err != nil {
			return &RuntimeError{Line: o.line, Err: err}
		}
	}
	if a, ok := o.tags["days"]; ok {
		// RFC 5230 §4.1: the site may bound :days; Surat takes 1–30.
		d := min(max(a.num, 1), 30)
		v.Period = time.Duration(d) * 24 * time.Hour
	}
	if a, ok := o.tags["seconds"]; ok {
		// RFC 6131 §2: :seconds 0 would mean "always reply"; Surat keeps
		// at least one second between replies and at most 30 days.
		sec := min(max(a.num, 1), 30*24*3600)
		v.Period = time.Duration(sec) * time.Second
	}
	seen := map[string]bool{}
	add := func(a string) {
		a = strings.TrimSpace(a)
		if a != "" && !seen[strings.ToLower(a)] {
			seen[strings.ToLower(a)] = true
			v.Addresses = append(v.Addresses, a)
		}
	}
	if a, ok := o.tags["addresses"]; ok {
		for _, s := range f.strs(st, a) {
			add(s)
		}
	}
	for _, s := range st.env.Addresses {
		add(s)
	}
	add(st.env.User)
	if a, ok := o.tags["handle"]; ok {
		if v.Handle, err = f.str(st, a); err != nil {
			return &RuntimeError{Line: o.line, Err: err}
		}
	} else {
		// RFC 5230 §4.2: without :handle, vacations with the same
		// arguments share one "already replied" record.
		h := sha256.Sum256([]byte(v.Reason + "\x00" + v.Subject + "\x00" + v.From + "\x00" + strconv.FormatBool(v.Mime)))
		v.Handle = hex.EncodeToString(h[:16])
	}
	st.vacation = v
	st.logf("vacation")
	return nil
}

// flagList splits each string at white space (RFC 5232 §3: a string
// may hold several flags), removes duplicates case-insensitively, and
// drops what is not an IMAP flag (RFC 3501 §9: flag-keyword is an atom,
// system flags are the five that may be stored; \Recent may not),
// giving system flags their usual spelling.
func flagList(list []string) []string {
	var out []string
	for _, s := range list {
		for _, fl := range strings.Fields(s) {
			if fl, ok := imapFlag(fl); ok {
				out = unionFlags(out, []string{fl})
			}
		}
	}
	return out
}

func imapFlag(fl string) (string, bool) {
	if strings.HasPrefix(fl, "\\") {
		for _, sys := range []string{"\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft"} {
			if strings.EqualFold(fl, sys) {
				return sys, true
			}
		}
		return "", false
	}
	if len(fl) > 255 {
		return "", false
	}
	for i := 0; i < len(fl); i++ {
		// RFC 3501 §9 atom-specials, CTLs and 8-bit.
		if c := fl[i]; c <= ' ' || c >= 0x7f || strings.IndexByte("(){%*\"\\]", c) >= 0 {
			return "", false
		}
	}
	return fl, true
}

// unionFlags appends the flags of b that a lacks (case-insensitively:
// IMAP flags are case-insensitive, RFC 3501 §2.3.2).
func unionFlags(a, b []string) []string {
	out := append([]string(nil), a...)
	for _, fl := range b {
		if !hasFlag(out, fl) {
			out = append(out, fl)
		}
	}
	return out
}

// removeFlags is the flags of a that are not in b.
func removeFlags(a, b []string) []string {
	var out []string
	for _, fl := range a {
		if !hasFlag(b, fl) {
			out = append(out, fl)
		}
	}
	return out
}

// hasFlag reports whether list holds fl, case-insensitively.
func hasFlag(list []string, fl string) bool {
	return slices.ContainsFunc(list, func(have string) bool { return strings.EqualFold(have, fl) })
}

// flagAction runs setflag, addflag and removeflag (RFC 5232 §3), on the
// internal variable or on a named one (a space-separated list).
func (st *state) flagAction(f *frame, o *op) error {
	list := flagList(f.strs(st, o.pos[1]))
	name := ""
	if o.pos[0].line != -1 {
		var err error
		if name, err = f.str(st, o.pos[0]); err != nil {
			return &RuntimeError{Line: o.line, Err: err}
		}
	}
	var cur []string
	if name == "" {
		cur = st.flags
	} else {
		v, _ := f.get(st, name)
		cur = strings.Fields(v)
	}
	switch o.name {
	case "setflag":
		cur = list
	case "addflag":
		cur = unionFlags(cur, list)
	case "removeflag":
		cur = removeFlags(cur, list)
	}
	if name == "" {
		st.flags = cur
		return nil
	}
	return f.setVar(st, o, name, strings.Join(cur, " "))
}

// redirectAddress takes the address out of "Name <local@domain>" (RFC
// 5228 §4.2 takes an RFC 5322 mailbox) and trims white space.
func redirectAddress(to string) string {
	to = strings.TrimSpace(to)
	if i := strings.LastIndexByte(to, '<'); i >= 0 && strings.HasSuffix(to, ">") {
		to = strings.TrimSpace(to[i+1 : len(to)-1])
	}
	return to
}

// validRedirect checks a redirect address: one local@domain mailbox,
// without display name or angle brackets (RFC 5228 §4.2 takes an
// RFC 5322 address; Surat takes the plain form it can relay to).
func validRedirect(to string) bool {
	local, domain, ok := splitAddress(to)
	quoted := len(local) >= 2 && local[0] == '"' && local[len(local)-1] == '"'
	return ok && local != "" && domain != "" && !strings.ContainsAny(to, "\r\n<>") &&
		(quoted || !strings.ContainsAny(local, " \t,;@")) && !strings.ContainsAny(domain, " \t,;") &&
		utf8.ValidString(to)
}
