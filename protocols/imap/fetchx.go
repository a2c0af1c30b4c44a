package imap

import (
	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/imapmsg"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// fetchExt are the FETCH items go-imap's imap.FetchOptions lacks, which
// fetchOne answers through this file: PREVIEW (RFC 8970), EMAILID and
// THREADID (RFC 8474), SAVEDATE (RFC 8514). A nil *fetchExt asks for none.
type fetchExt struct {
	preview, emailID, threadID, saveDate bool
}

// newFetchExt picks the extension items of a FETCH; nil when it has none.
func newFetchExt(o *wire.FetchOptions) *fetchExt {
	if !o.Preview && !o.EmailID && !o.ThreadID && !o.SaveDate {
		return nil
	}
	return &fetchExt{preview: o.Preview, emailID: o.EmailID, threadID: o.ThreadID, saveDate: o.SaveDate}
}

// needsBody: PREVIEW reads the message's first text part.
func (x *fetchExt) needsBody() bool { return x != nil && x.preview }

// write writes the extension items of one FETCH response. parsed gives
// the parsed message (only called when needsBody held).
func (x *fetchExt) write(rw *fetchResponse, m *evlog.MessageRecord, parsed func() *imapmsg.Message) {
	if x == nil {
		return
	}
	if x.saveDate {
		// RFC 8514 §4: "SAVEDATE" SP (date-time / NIL); every message
		// here has one.
		rw.item("SAVEDATE").SP().DateTime(saveDate(m))
	}
	if x.emailID {
		// RFC 8474 §5.1: "EMAILID" SP "(" objectid ")".
		rw.item("EMAILID").SP().Open().Atom(emailObjectID(m.GetBlob())).Close()
	}
	if x.threadID {
		// RFC 8474 §5.2: "THREADID" SP ("(" objectid ")" / NIL); no
		// threads here.
		rw.item("THREADID").SP().NIL()
	}
	if x.preview {
		// RFC 8970 §4: "PREVIEW" SP nstring. PREVIEW (LAZY) lets the
		// server answer NIL when the preview is not at hand; it is
		// computed here from the body FETCH reads anyway, so both forms
		// get it. A message without text has the empty preview.
		rw.item("PREVIEW").SP().String(parsed().Preview())
	}
}
