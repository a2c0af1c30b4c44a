package wire

// Limits bound what one command may cost the server before it runs. The
// zero value of a field means its default (DefaultLimits).
type Limits struct {
	// MaxLineLength bounds the command text of one command: every byte
	// the client sends for it except literal data. Dovecot's
	// imap_max_line_length is 64 KiB; RFC 9051 §4 leaves it to the server
	// and RFC 7162 §4 asks for at least 8,192 octets.
	MaxLineLength int
	// MaxLiteralSize bounds one literal inside a command (a LOGIN
	// password, a SETMETADATA value, a mailbox name). The APPEND and
	// CATENATE message literals are not bounded here: the decoder hands
	// them to the caller unread (Decoder.LiteralHeader).
	MaxLiteralSize int64
	// MaxCommandSize bounds command text and in-command literal data
	// together.
	MaxCommandSize int64
	// MaxDepth bounds the nesting of parenthesised lists (and of the
	// SEARCH program's parentheses, NOT and OR).
	MaxDepth int
	// MaxDiscard bounds the bytes Discard reads to skip a refused
	// command (a line past MaxLineLength, the data of a refused
	// non-synchronising literal): past it the session cannot follow the
	// client any more and the error is Fatal.
	MaxDiscard int64
}

// DefaultLimits are the limits a zero Limits field takes.
var DefaultLimits = Limits{
	MaxLineLength:  64 << 10,
	MaxLiteralSize: 64 << 10,
	MaxCommandSize: 1 << 20,
	MaxDepth:       32,
	MaxDiscard:     64 << 20,
}

// withDefaults returns l with each zero field set to its default.
func (l Limits) withDefaults() Limits {
	if l.MaxLineLength <= 0 {
		l.MaxLineLength = DefaultLimits.MaxLineLength
	}
	if l.MaxLiteralSize <= 0 {
		l.MaxLiteralSize = DefaultLimits.MaxLiteralSize
	}
	if l.MaxCommandSize <= 0 {
		l.MaxCommandSize = DefaultLimits.MaxCommandSize
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = DefaultLimits.MaxDepth
	}
	if l.MaxDiscard <= 0 {
		l.MaxDiscard = DefaultLimits.MaxDiscard
	}
	return l
}

// nonSyncMinus is the largest non-synchronising literal LITERAL- allows
// (RFC 7888 §5).
const nonSyncMinus = 4096
