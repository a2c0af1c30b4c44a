package wire

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// The small grammars: each reads from the space after the command name
// through the end of the command.

// ReadCopy reads SP sequence-set SP mailbox: COPY and MOVE (RFC 9051
// §6.4.7, §6.4.8) and their UID forms.
func (d *Decoder) ReadCopy(uid bool) (imap.NumSet, string, error) {
	if err := d.SP(); err != nil {
		return nil, "", err
	}
	set, err := d.NumSet(uid)
	if err != nil {
		return nil, "", err
	}
	if err := d.SP(); err != nil {
		return nil, "", err
	}
	m, err := d.Mailbox()
	if err != nil {
		return nil, "", err
	}
	return set, m, d.End()
}

// ReadRename reads SP mailbox SP mailbox (RFC 9051 §6.3.6).
func (d *Decoder) ReadRename() (from, to string, err error) {
	if err := d.SP(); err != nil {
		return "", "", err
	}
	if from, err = d.Mailbox(); err != nil {
		return "", "", err
	}
	if err := d.SP(); err != nil {
		return "", "", err
	}
	if to, err = d.Mailbox(); err != nil {
		return "", "", err
	}
	return from, to, d.End()
}

// ReadUIDExpunge reads SP sequence-set of UIDs (RFC 9051 §6.4.9, RFC 4315
// §2.1), "$" allowed.
func (d *Decoder) ReadUIDExpunge() (imap.UIDSet, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	set, err := d.UIDSet()
	if err != nil {
		return nil, err
	}
	return set, d.End()
}

// ReadLogin reads SP userid SP password (RFC 9051 §6.2.3).
func (d *Decoder) ReadLogin() (user, pass string, err error) {
	if err := d.SP(); err != nil {
		return "", "", err
	}
	if user, err = d.Astring(); err != nil {
		return "", "", err
	}
	if err := d.SP(); err != nil {
		return "", "", err
	}
	if pass, err = d.Astring(); err != nil {
		return "", "", err
	}
	return user, pass, d.End()
}

// ReadAuthenticate reads SP auth-type [SP (base64 / "=")] (RFC 9051
// §6.2.2, RFC 4959 SASL-IR). The mechanism is upper case; ir is the
// initial response as sent (base64, or "=" for an empty one), hasIR
// false when none was given.
func (d *Decoder) ReadAuthenticate() (mech, ir string, hasIR bool, err error) {
	if err := d.SP(); err != nil {
		return "", "", false, err
	}
	if mech, err = d.Atom(); err != nil {
		return "", "", false, err
	}
	mech = strings.ToUpper(mech)
	if ok, err := d.Maybe(' '); err != nil || !ok {
		if err != nil {
			return "", "", false, err
		}
		return mech, "", false, d.End()
	}
	if ir, err = d.readWhile(func(b byte) bool {
		return isLetter(b) || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '='
	}); err != nil {
		return "", "", false, err
	}
	if ir == "" {
		return "", "", false, syntaxf("Expected an initial response")
	}
	return mech, ir, true, d.End()
}

// ReadLine reads one line outside any command (an AUTHENTICATE response,
// RFC 9051 §6.2.2; IDLE's DONE, RFC 2177) and returns it without its CRLF.
// A line over Limits.MaxLineLength is read to its end and refused with a
// *SyntaxError (Fatal past Limits.MaxDiscard).
func (d *Decoder) ReadLine() (string, error) {
	var sb strings.Builder
	budget := d.limits.MaxDiscard
	for {
		b, err := d.r.ReadByte()
		if err != nil {
			return "", err
		}
		if b == '\n' {
			break
		}
		if budget--; budget < 0 {
			return "", &SyntaxError{Text: "Line too long", Code: "TOOBIG", Fatal: true}
		}
		if sb.Len() <= d.limits.MaxLineLength {
			sb.WriteByte(b)
		}
	}
	if sb.Len() > d.limits.MaxLineLength {
		return "", &SyntaxError{Text: "Line too long", Code: "TOOBIG"}
	}
	return strings.TrimSuffix(sb.String(), "\r"), nil
}
