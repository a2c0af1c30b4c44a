package smtp

import (
	"context"
	"errors"

	gosmtp "github.com/emersion/go-smtp"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/propose"
)

// reply builds an SMTP reply with an RFC 3463 enhanced status code.
func reply(code int, class, subject, detail int, msg string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{class, subject, detail}, Message: msg}
}

// The replies this package sends, each at the rule that chooses it.
var (
	// RFC 5321 §4.2.2, RFC 3463 X.1.1: bad destination mailbox address.
	errNoSuchUser = reply(550, 5, 1, 1, "No such user here")
	// The recipient is not known yet: the node is catching up on the log.
	errNotCaughtUp = reply(451, 4, 3, 0, "Recipient not known yet, try again later")
	// RFC 5321 §3.6.2 and §7.1, RFC 3463 X.7.1: no open relay.
	errRelayDenied = reply(550, 5, 7, 1, "Relaying denied: not a local domain")
	// No outbound queue is configured: temporary, so the client keeps
	// the message and retries (RFC 5321 §4.2.5).
	errNoRelay = reply(451, 4, 3, 0, "Outbound relay not available yet, try again later")
	// RFC 5321 §4.2.5 / RFC 3463 X.3.0: the cluster cannot commit now.
	errTemporary = reply(451, 4, 3, 0, "Temporary storage failure, try again later")
	// RFC 5321 §4.2.2 452 (insufficient system storage), RFC 3463 X.3.1
	// (mail system full): this node is low on disk space; temporary, so
	// the client retries, here later or at another MX.
	errInsufficientStorage = reply(452, 4, 3, 1, "Insufficient system storage, try again later")
	// RFC 3463 X.2.2: mailbox full.
	errOverQuota = reply(552, 5, 2, 2, "Mailbox full: over quota")
	// A check (pipeline.Check) could not decide: RFC 5321 §4.2.5, RFC 3463
	// X.7.0 (other security status), temporary, as Postfix answers when a
	// milter fails with milter_default_action = tempfail.
	errChecksFailed = reply(451, 4, 7, 0, "Message could not be checked now, try again later")
	// RFC 1870 §6.3, RFC 3463 X.3.4: message too big for system.
	errTooBig = reply(552, 5, 3, 4, "Message exceeds the maximum size")
	// RFC 5321 §2.3.8: lines end in CRLF; a bare LF or CR is refused
	// (SMTP smuggling, see the package doc). RFC 3463 X.6.0: media error.
	errBareLineEnding = reply(550, 5, 6, 0, "Message contains a bare LF or bare CR: lines must end in CRLF (RFC 5321 2.3.8)")
	// RFC 5321 §4.5.3.1.6 text line length.
	errLineTooLong = reply(500, 5, 4, 0, "Line too long")
	// RFC 4954 §6: authentication required.
	errAuthRequired = reply(530, 5, 7, 0, "Authentication required")
	// RFC 4954 §6: encryption required for requested authentication mechanism.
	errEncryptionRequired = reply(538, 5, 7, 11, "Encryption required: use STARTTLS first")
	// RFC 4954 §6: authentication credentials invalid.
	errAuthFailed = reply(535, 5, 7, 8, "Authentication credentials invalid")
	// RFC 4954 §6: temporary authentication failure.
	errAuthTemporary = reply(454, 4, 7, 0, "Temporary authentication failure, try again later")
	// RFC 6409 §6.1, RFC 3463 X.7.1: sender not authorised.
	errSenderNotOwned = reply(553, 5, 7, 1, "Sender address not owned by the authenticated user")
	// RFC 3463 X.1.3: bad destination mailbox address syntax.
	errBadSyntax = reply(501, 5, 1, 3, "Bad address syntax")
	// RFC 3463 X.1.8: bad sender's system address.
	errBadSender = reply(553, 5, 1, 8, "Bad sender address")
	// RFC 5321 §3.8, RFC 3463 X.7.0: too many connections.
	errTooManySessions = reply(421, 4, 7, 0, "Too many connections, try again later")
	// RFC 5321 §4.5.3.2: the client was idle or too slow.
	errTimeout = reply(421, 4, 4, 2, "Timeout, closing connection")
	// The user's remote recipients of the last hour are used up (Config.
	// MaxSendPerHour): RFC 5321 §4.2.2 450, RFC 3463 X.7.1 (delivery not
	// authorized: a policy of this server), temporary so the client keeps
	// the message and retries, as Postfix answers a rate limit.
	errSendRateLimit = reply(450, 4, 7, 1, "Hourly sending limit reached for this user, try again later")
	// This recipient would pass the hourly limit though earlier ones fit:
	// RFC 5321 §4.5.3.1.10, RFC 3463 X.5.3 (too many recipients): the
	// client sends to those accepted and retries the rest later.
	errSendRateRecipients = reply(452, 4, 5, 3, "Too many recipients for this user's hourly sending limit, send the rest later")
	// The user's share of the outbound queue is full (Config.
	// MaxQueuedBytesPerUser): RFC 5321 §4.2.2 452 (insufficient system
	// storage), RFC 3463 X.3.1 (mail system full: the storage allotted to
	// the user's outgoing mail); temporary, it drains as mail leaves.
	errQueuedBytesLimit = reply(452, 4, 3, 1, "Too much of this user's mail is waiting in the outbound queue, try again later")
)

// replyFor maps any error from the directory, the cluster or apply to the
// reply a client must see. It is the one place where internal failures get
// their SMTP meaning (docs/DESIGN.md, Conventions): nothing that might
// succeed on retry is ever reported as permanent.
func replyFor(err error) *gosmtp.SMTPError {
	var se *gosmtp.SMTPError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &se):
		return se
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_OVER_QUOTA):
		return errOverQuota
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_SEND_RATE_LIMIT):
		return errSendRateLimit
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_QUEUED_BYTES_LIMIT):
		return errQueuedBytesLimit
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER):
		// The user vanished between RCPT and commit.
		return errNoSuchUser
	case errors.Is(err, cluster.ErrInsufficientStorage):
		return errInsufficientStorage
	case errors.Is(err, cluster.ErrNoLeader), errors.Is(err, cluster.ErrNoQuorum),
		errors.Is(err, cluster.ErrShutdown), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, context.Canceled), cluster.IsTemporary(err):
		return errTemporary
	default:
		// ErrTooLarge (a chunking bug), a malformed outcome, an apply
		// refusal that should not happen: still temporary, so the sender
		// keeps the message while an operator looks.
		return errTemporary
	}
}
