package imap

import (
	"errors"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/cluster"
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/propose"
)

func no(code imap.ResponseCode, text string) *imap.Error {
	return &imap.Error{Type: imap.StatusResponseTypeNo, Code: code, Text: text}
}

func bad(text string) *imap.Error {
	return &imap.Error{Type: imap.StatusResponseTypeBad, Code: imap.ResponseCodeClientBug, Text: text}
}

// The replies this package sends, each with its RFC 5530 response code.
var (
	errNonExistent   = no(imap.ResponseCodeNonExistent, "No such mailbox")
	errTryCreate     = no(imap.ResponseCodeTryCreate, "No such mailbox") // RFC 9051 §6.3.12, §6.4.7
	errAlreadyExists = no(imap.ResponseCodeAlreadyExists, "Mailbox already exists")
	errOverQuota     = no(imap.ResponseCodeOverQuota, "Over quota")
	errUnavailable   = no(imap.ResponseCodeUnavailable, "Temporary failure, try again later")
	errReadOnly      = no(imap.ResponseCodeCannot, "Mailbox is read-only (EXAMINE)")
	errInboxDelete   = no(imap.ResponseCodeCannot, "INBOX cannot be deleted") // RFC 9051 §6.3.5
	errInvalidName   = no(imap.ResponseCodeCannot, "Invalid mailbox name")
	errInvalid       = no(imap.ResponseCodeCannot, "Invalid request")
	errAuthFailed    = no(imap.ResponseCodeAuthenticationFailed, "Authentication failed")
	// A hint for clients and operators: slowed, not locked out (RFC 9051
	// §11.4 asks servers to slow password guessing).
	errAuthFailedSlowed = no(imap.ResponseCodeAuthenticationFailed, "Authentication failed; too many failures, slowed down")
	errAuthTemporary    = no(imap.ResponseCodeUnavailable, "Temporary authentication failure, try again later")
)

// errNoStorage: the node is low on disk space. RFC 5530's OVERQUOTA is
// about the user's quota (a client would ask the user to delete mail);
// this is the server's own, and temporary: UNAVAILABLE.
var errNoStorage = no(imap.ResponseCodeUnavailable, "Insufficient storage on the server, try again later")

// replyFor maps an error from the store, the cluster or apply to the reply
// a client must see: the one place where internal failures get their IMAP
// meaning (docs/DESIGN.md, Conventions). A cluster failure (no leader, no
// quorum, timeout) is always [UNAVAILABLE], never a permanent NO or OK.
func replyFor(err error) error {
	var ie *imap.Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ie):
		return ie
	case errors.Is(err, cluster.ErrInsufficientStorage):
		return errNoStorage
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_OVER_QUOTA):
		return errOverQuota // RFC 9208 §4.3 (response code defined by RFC 5530)
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_MAILBOX_LIMIT):
		var rej *propose.RejectedError
		errors.As(err, &rej)
		return no(imap.ResponseCodeLimit, "Limit reached: "+rej.Message) // RFC 5530 §3
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_MAILBOX_EXISTS):
		return errAlreadyExists
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX), errors.Is(err, mailbox.ErrNotFound):
		return errNonExistent
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_INVALID):
		var rej *propose.RejectedError
		errors.As(err, &rej)
		return no(imap.ResponseCodeCannot, "Refused: "+rej.Message)
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_FORBIDDEN):
		return errNoPerm // RFC 4314 §3.1: the a right was taken meanwhile
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER):
		return no(imap.ResponseCodeNonExistent, "No such user")
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_ACL_LIMIT):
		return no(imap.ResponseCodeLimit, "Too many identifiers in the mailbox's ACL") // RFC 5530 §3
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_METADATA_MAXSIZE):
		return errMetadataMaxSize // RFC 5464 §4.3
	case propose.IsCode(err, evlog.ErrorCode_ERROR_CODE_METADATA_TOOMANY):
		return no("METADATA TOOMANY", "Too many annotations") // RFC 5464 §4.3
	case propose.Code(err) != evlog.ErrorCode_ERROR_CODE_UNSPECIFIED:
		return no(imap.ResponseCodeCannot, "Refused")
	default:
		// Cluster errors (cluster.IsTemporary), timeouts, a malformed
		// outcome, a store read error: the client may retry.
		return errUnavailable
	}
}
