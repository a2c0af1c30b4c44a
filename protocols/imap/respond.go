package imap

import (
	"bytes"
	"io"
	"strconv"
	"time"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// The responses the backend methods write, through the session's encoder
// (RFC 9051 §7). The backend takes them as small interfaces (updateWriter,
// expungeWriter, moveWriter) or the fetchWriter below, so it knows nothing
// of the wire.

// expungeWriter is what Expunge writes EXPUNGE responses to.
type expungeWriter interface {
	WriteExpunge(seqNum uint32) error
}

// moveWriter is what Move writes to: COPYUID first, then EXPUNGEs (RFC
// 6851 §4.3).
type moveWriter interface {
	expungeWriter
	WriteCopyData(*imap.CopyData) error
}

// responses writes the untagged responses of the session's commands; it
// is updateWriter, expungeWriter and moveWriter.
type responses struct{ s *session }

// updates is the writer of the session's unilateral updates.
func (s *session) updates() responses { return responses{s} }

// noExpunges is an expungeWriter that writes nothing (CLOSE expunges
// silently, RFC 9051 §6.4.1).
type noExpunges struct{}

func (noExpunges) WriteExpunge(uint32) error { return nil }

func (r responses) WriteExpunge(seq uint32) error {
	return r.s.enc.Untagged().Number(seq).SP().Atom("EXPUNGE").CRLF().Err()
}

func (r responses) WriteNumMessages(n uint32) error {
	return r.s.enc.Untagged().Number(n).SP().Atom("EXISTS").CRLF().Err()
}

func (r responses) WriteMessageFlags(seq uint32, uid imap.UID, flags []imap.Flag, modseq uint64) error {
	e := r.s.enc.Untagged().Number(seq).SP().Atom("FETCH").SP().Open()
	if uid != 0 {
		e.Atom("UID").SP().Number(uint32(uid)).SP()
	}
	e.Atom("FLAGS").SP().Flags(flags)
	if r.s.cond.condstore && modseq != 0 {
		e.SP().Atom("MODSEQ").SP().Open().Number64(modseq).Close() // RFC 7162 §3.1
	}
	return e.Close().CRLF().Err()
}

// WriteMailboxFlags writes "* FLAGS (...)" (RFC 9051 §7.3.5): the flags
// the mailbox now has, before any FETCH FLAGS holds a new keyword.
func (r responses) WriteMailboxFlags(flags []imap.Flag) error {
	return r.s.enc.Untagged().Atom("FLAGS").SP().Flags(flags).CRLF().Err()
}

// WriteNumRecent writes RECENT (RFC 3501 §7.3.2); IMAP4rev2 has none.
func (r responses) WriteNumRecent(n uint32) error {
	if r.s.rev2 {
		return nil
	}
	return r.s.enc.Untagged().Number(n).SP().Atom("RECENT").CRLF().Err()
}

// WriteCopyData writes MOVE's COPYUID as an untagged OK (RFC 6851 §4.3,
// RFC 4315 §3).
func (r responses) WriteCopyData(d *imap.CopyData) error {
	return r.s.enc.Status("*", "OK", copyUIDCode(d), "Moved").Err()
}

// copyUIDCode is the COPYUID response code (RFC 4315 §3).
func copyUIDCode(d *imap.CopyData) string {
	return "COPYUID " + utoa(d.UIDValidity) + " " + d.SourceUIDs.String() + " " + d.DestUIDs.String()
}

func utoa(n uint32) string { return strconv.FormatUint(uint64(n), 10) }

// fetchWriter writes FETCH responses (RFC 9051 §7.5.2). obsolete names
// the sections asked for with an IMAP4rev1 name (RFC822, RFC822.HEADER,
// RFC822.TEXT: RFC 3501 §6.4.5), answered under that name.
type fetchWriter struct {
	s        *session
	obsolete map[*imap.FetchItemBodySection]string
	ext      *fetchExt // the items imap.FetchOptions lacks (fetchx.go)
}

// fetchResponse is one "* n FETCH (...)" response being written: items
// are separated by spaces; Close ends it. Every write goes to the
// encoder, whose first error sticks and is returned by Close.
type fetchResponse struct {
	enc      *wire.Encoder
	items    int
	obsolete map[*imap.FetchItemBodySection]string
}

// CreateMessage starts the response for the message seq.
func (w *fetchWriter) CreateMessage(seq uint32) *fetchResponse {
	w.s.enc.Untagged().Number(seq).SP().Atom("FETCH").SP().Open()
	return &fetchResponse{enc: w.s.enc, obsolete: w.obsolete}
}

// item starts an item: the space before every one but the first.
func (r *fetchResponse) item(name string) *wire.Encoder {
	if r.items > 0 {
		r.enc.SP()
	}
	r.items++
	return r.enc.Atom(name)
}

func (r *fetchResponse) WriteUID(uid imap.UID) {
	r.item("UID").SP().Number(uint32(uid))
}

func (r *fetchResponse) WriteFlags(flags []imap.Flag) {
	r.item("FLAGS").SP().Flags(flags)
}

func (r *fetchResponse) WriteInternalDate(t time.Time) {
	r.item("INTERNALDATE").SP().DateTime(t)
}

func (r *fetchResponse) WriteRFC822Size(size int64) {
	r.item("RFC822.SIZE").SP().Number64(uint64(size))
}

func (r *fetchResponse) WriteEnvelope(env *imapmsg.Envelope) {
	r.item("ENVELOPE").SP().Envelope(env)
}

// WriteBodyStructure writes BODYSTRUCTURE (extended) or BODY.
func (r *fetchResponse) WriteBodyStructure(p *imapmsg.Part, extended bool) {
	name := "BODY"
	if extended {
		name = "BODYSTRUCTURE"
	}
	r.item(name).SP().BodyStructure(p, extended)
}

// WriteBodySection writes a section's name and the header of its
// literal; the caller writes exactly size octets to the returned writer
// and closes it.
func (r *fetchResponse) WriteBodySection(bs *imap.FetchItemBodySection, size int64) io.WriteCloser {
	var e *wire.Encoder
	if name, ok := r.obsolete[bs]; ok {
		e = r.item(name)
	} else {
		e = r.item("BODY")
		writeSectionSpec(e, bs)
		if bs.Partial != nil {
			e.Raw("<").Number64(uint64(bs.Partial.Offset)).Raw(">")
		}
	}
	e.SP().Raw("{").Number64(uint64(size)).Raw("}\r\n")
	return &literalWriter{enc: e, s: r}
}

// WriteBinarySection is WriteBodySection for BINARY[...] of data: a
// literal8 when data holds a NUL (RFC 3516 §4.2, §4.3: the literal8 is
// needed only then), a literal otherwise, as Dovecot answers.
func (r *fetchResponse) WriteBinarySection(bs *imap.FetchItemBinarySection, data []byte) io.WriteCloser {
	size := int64(len(data))
	e := r.item("BINARY").Raw("[").Raw(partString(bs.Part)).Raw("]")
	if bs.Partial != nil {
		e.Raw("<").Number64(uint64(bs.Partial.Offset)).Raw(">")
	}
	e.SP()
	if bytes.IndexByte(data, 0) >= 0 {
		e.Raw("~")
	}
	e.Raw("{").Number64(uint64(size)).Raw("}\r\n")
	return &literalWriter{enc: e, s: r}
}

func (r *fetchResponse) WriteBinarySectionSize(bs *imap.FetchItemBinarySectionSize, size uint32) {
	r.item("BINARY.SIZE").Raw("[").Raw(partString(bs.Part)).Raw("]").SP().Number(size)
}

// Close ends the response.
func (r *fetchResponse) Close() error {
	return r.enc.Close().CRLF().Err()
}

// literalWriter writes a literal's data through the encoder's writer.
type literalWriter struct {
	enc *wire.Encoder
	s   *fetchResponse
}

func (w *literalWriter) Write(p []byte) (int, error) {
	if err := w.enc.Err(); err != nil {
		return 0, err
	}
	w.enc.Raw(string(p))
	if err := w.enc.Err(); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (w *literalWriter) Close() error { return w.enc.Err() }

// writeSectionSpec writes "[section]" (RFC 9051 §9 section).
func writeSectionSpec(e *wire.Encoder, bs *imap.FetchItemBodySection) {
	e.Raw("[").Raw(partString(bs.Part))
	if bs.Specifier != imap.PartSpecifierNone {
		if len(bs.Part) > 0 {
			e.Raw(".")
		}
		e.Raw(string(bs.Specifier))
		fields, not := bs.HeaderFields, false
		if len(bs.HeaderFieldsNot) > 0 {
			fields, not = bs.HeaderFieldsNot, true
		}
		if bs.Specifier == imap.PartSpecifierHeader && (len(fields) > 0 || not) {
			if not {
				e.Raw(".FIELDS.NOT")
			} else {
				e.Raw(".FIELDS")
			}
			e.SP().List(len(fields), func(i int) { e.AString(fields[i]) })
		}
	}
	e.Raw("]")
}

func partString(part []int) string {
	out := ""
	for i, p := range part {
		if i > 0 {
			out += "."
		}
		out += strconv.Itoa(p)
	}
	return out
}
