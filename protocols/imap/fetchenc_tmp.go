package imap

import (
	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/wire"
)

// Placeholders until fetch.go moves to imapmsg.
func writeEnvelope(e *wire.Encoder, env *imap.Envelope)                        { e.NIL() }
func writeBodyStructure(e *wire.Encoder, bs imap.BodyStructure, extended bool) { e.NIL() }
