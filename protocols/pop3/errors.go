package pop3

import (
	"errors"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// The -ERR replies this package sends, with their RFC 2449 §8 / RFC 3206
// response codes where one applies.
const (
	// RFC 2595 §4: a server may require STLS before plaintext passwords;
	// RFC 3206 §5 [AUTH]: the failure is about authentication.
	errTLSRequired = "-ERR [AUTH] Plaintext authentication disallowed before STLS"
	errAuthFailed  = "-ERR [AUTH] Authentication failed"
	// Slowed, not locked out (protocols/ratelimit): a hint for clients and
	// operators.
	errAuthSlowed = "-ERR [AUTH] Authentication failed; too many failures, slowed down"
	// RFC 3206 §4 [SYS/TEMP]: a temporary system problem; retry later.
	errTemporary     = "-ERR [SYS/TEMP] Temporary failure, try again later"
	errAuthTemporary = "-ERR [SYS/TEMP] Temporary authentication failure, try again later"
	errQuitTemporary = "-ERR [SYS/TEMP] Could not commit changes; nothing was deleted, try again later"
	errQuitNoStorage = "-ERR [SYS/TEMP] Insufficient storage on the server; nothing was deleted, try again later"
	// RFC 3206 §4 [SYS/PERM]: the maildrop went away (user deleted).
	errQuitPermanent = "-ERR [SYS/PERM] Maildrop no longer exists; nothing was deleted"

	errUnknownCommand = "-ERR Unknown command"
	errWrongState     = "-ERR Command not valid in this state"
	errSyntax         = "-ERR Syntax error"
	errLineTooLong    = "-ERR Line too long" // RFC 2449 §4: 255 octets with CRLF
	errNoSuchMessage  = "-ERR No such message"
	errDeleted        = "-ERR Message is marked deleted"
	errGone           = "-ERR Message was deleted by another session"
	errTooManyBad     = "-ERR Too many bad commands, closing connection"
	errTooManyFails   = "-ERR [AUTH] Too many failed logins, closing connection"
	errNeedUser       = "-ERR Send USER first"
	errAlreadyTLS     = "-ERR Already under TLS"
	errUnknownMech    = "-ERR Unrecognized authentication mechanism"
	errAuthCancelled  = "-ERR Authentication cancelled"
	errBadBase64      = "-ERR Invalid base64 in SASL response"
	errTimeout        = "-ERR Autologout: idle for too long"
	errTooManyConns   = "-ERR [SYS/TEMP] Too many connections, try again later"
	errShuttingDown   = "-ERR [SYS/TEMP] Server shutting down"
)

// quitReplyFor maps a failed QUIT commit to its reply: the one place where
// cluster and apply failures get their POP3 meaning (docs/DESIGN.md). Anything
// that may succeed on retry (no leader, no quorum, a timeout, a malformed
// outcome) is [SYS/TEMP], never +OK.
func quitReplyFor(err error) string {
	switch {
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX),
		propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER):
		return errQuitPermanent
	case errors.Is(err, errPartialCommit):
		// RFC 1939 §6 QUIT: "-ERR some deleted messages not removed".
		return "-ERR [SYS/TEMP] Some deleted messages not removed, try again later"
	case errors.Is(err, cluster.ErrInsufficientStorage):
		return errQuitNoStorage
	default:
		return errQuitTemporary
	}
}

// errPartialCommit: a maildrop too large for one proposal was committed in
// parts and a later part failed.
var errPartialCommit = errors.New("pop3: only part of the changes committed")
