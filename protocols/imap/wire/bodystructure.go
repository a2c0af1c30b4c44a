package wire

import (
	"math"
	"strings"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

// BodyStructure writes p as a body (RFC 9051 §7.5.2 and §9 body, RFC 3501
// §7.4.2): BODYSTRUCTURE's form with extended (the extension data of
// body-ext-1part and body-ext-mpart: MD5, disposition, language,
// location; for a multipart, its parameters first), BODY's without. An
// encapsulated message's structure is written in the same form.
func (e *Encoder) BodyStructure(p *imapmsg.Part, extended bool) *Encoder {
	e.Open()
	if p.IsMultipart() {
		// body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
		for k := range p.Parts {
			e.BodyStructure(&p.Parts[k], extended)
		}
		e.SP().String(p.Subtype)
		if extended {
			e.SP().params(p.Params).SP().disposition(p).SP().language(p.Language).SP().
				NString(p.Location.Value, p.Location.Valid)
		}
		return e.Close()
	}
	// body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP
	// body-fld-enc SP body-fld-octets
	e.String(p.Type).SP().String(p.Subtype).SP().params(p.Params).SP().
		NString(p.ID.Value, p.ID.Valid).SP().
		NString(p.Description.Value, p.Description.Valid).SP().
		String(p.Encoding).SP().Number(number(int64(p.Size())))
	switch {
	case p.IsMessage():
		// body-type-msg: envelope, body and lines of the message.
		e.SP().Envelope(p.Envelope).SP().BodyStructure(p.Message, extended).SP().Number(number(p.Lines))
	case strings.EqualFold(p.Type, "text"):
		e.SP().Number(number(p.Lines))
	}
	if extended {
		// body-ext-1part = body-fld-md5 SP body-fld-dsp SP body-fld-lang
		// SP body-fld-loc
		e.SP().NString(p.MD5.Value, p.MD5.Valid).SP().disposition(p).SP().language(p.Language).SP().
			NString(p.Location.Value, p.Location.Valid)
	}
	return e.Close()
}

// params writes body-fld-param: NIL, or the attribute-value pairs.
func (e *Encoder) params(ps []imapmsg.Param) *Encoder {
	if len(ps) == 0 {
		return e.NIL()
	}
	e.Open()
	for k, p := range ps {
		if k > 0 {
			e.SP()
		}
		e.String(p.Name).SP().String(p.Value)
	}
	return e.Close()
}

// disposition writes body-fld-dsp (RFC 2183): NIL, or the type and its
// parameters.
func (e *Encoder) disposition(p *imapmsg.Part) *Encoder {
	if p.Disposition == "" {
		return e.NIL()
	}
	return e.Open().String(p.Disposition).SP().params(p.DispositionParams).Close()
}

// language writes body-fld-lang: NIL, or the list of language tags.
func (e *Encoder) language(langs []string) *Encoder {
	if len(langs) == 0 {
		return e.NIL()
	}
	e.Open()
	for k, l := range langs {
		if k > 0 {
			e.SP()
		}
		e.String(l)
	}
	return e.Close()
}

// number is n as an IMAP number (RFC 9051 §9: a 32-bit value), capped.
func number(n int64) uint32 {
	return uint32(max(0, min(n, math.MaxUint32)))
}
