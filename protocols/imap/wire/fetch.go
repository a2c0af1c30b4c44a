package wire

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// FetchOptions are the items and modifiers of a FETCH (RFC 9051 §6.4.5):
// go-imap's imap.FetchOptions plus what it lacks.
//
//   - BODY (the non-extensible structure) sets Body and, unless
//     BODYSTRUCTURE was asked too, BodyStructure{Extended: false}.
//   - RFC822, RFC822.PEEK, RFC822.HEADER and RFC822.TEXT are body
//     sections (BODY[], BODY.PEEK[], BODY.PEEK[HEADER], BODY[TEXT]) whose
//     response must carry the old name: Obsolete maps each such section
//     to it (RFC 3501 §6.4.5).
//   - CHANGEDSINCE (RFC 7162 §3.1.4.1) sets ChangedSince,
//     HasChangedSince (it may be 0) and ModSeq (it implies MODSEQ).
//   - VANISHED (RFC 7162 §3.2.6) is allowed in UID FETCH with
//     CHANGEDSINCE only (else BAD); whether QRESYNC is enabled is the
//     dispatcher's check.
//   - UID FETCH sets UID (RFC 9051 §6.4.9: UID is always returned).
type FetchOptions struct {
	imap.FetchOptions

	Body     bool
	Obsolete map[*imap.FetchItemBodySection]string

	HasChangedSince bool
	Vanished        bool

	Preview     bool // RFC 8970 §3.1
	PreviewLazy bool // PREVIEW (LAZY)
	EmailID     bool // RFC 8474 §5.1
	ThreadID    bool // RFC 8474 §5.2
	SaveDate    bool // RFC 8514 §4
}

// FetchCommand is a FETCH or UID FETCH.
type FetchCommand struct {
	UID     bool
	NumSet  imap.NumSet // "$" is imap.SearchRes()
	Options FetchOptions
}

// ReadFetch reads the arguments of FETCH (uid false) or UID FETCH, from
// the space after the command name through the end of the command:
//
//	fetch = "FETCH" SP sequence-set SP ("ALL" / "FULL" / "FAST" /
//	        fetch-att / "(" fetch-att *(SP fetch-att) ")") [fetch-modifiers]
func (d *Decoder) ReadFetch(uid bool) (*FetchCommand, error) {
	c := &FetchCommand{UID: uid}
	c.Options.Obsolete = map[*imap.FetchItemBodySection]string{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	set, err := d.NumSet(uid)
	if err != nil {
		return nil, err
	}
	c.NumSet = set
	if err := d.SP(); err != nil {
		return nil, err
	}
	o := &c.Options
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	// pendingMod is set when "PREVIEW (" turned out to open the fetch
	// modifiers rather than PREVIEW's own (RFC 8970 §3.1: the two share
	// the syntax "SP (").
	var pendingMod string
	if b == '(' {
		n := 0
		err = d.List(func() error { n++; return d.fetchAtt(o, false, nil) })
		if err == nil && n == 0 {
			err = syntaxf("Empty FETCH item list")
		}
	} else {
		err = d.fetchAtt(o, true, &pendingMod)
	}
	if err != nil {
		return nil, err
	}
	if pendingMod != "" {
		err = d.fetchModifiers(o, uid, pendingMod)
	} else if ok, err2 := d.Maybe(' '); err2 != nil {
		err = err2
	} else if ok {
		if err = d.Expect('('); err == nil {
			err = d.fetchModifiers(o, uid, "")
		}
	}
	if err != nil {
		return nil, err
	}
	if uid {
		o.UID = true
	}
	if o.Vanished && (!uid || !o.HasChangedSince) {
		// RFC 7162 §3.2.6: VANISHED only in UID FETCH, with CHANGEDSINCE.
		return nil, syntaxf("VANISHED requires UID FETCH and CHANGEDSINCE")
	}
	return c, d.End()
}

// fetchModifiers reads the modifiers after their "(" (and first keyword,
// when already read) through ")":
//
//	fetch-modifier = "CHANGEDSINCE" SP mod-sequence-valzer / "VANISHED"
func (d *Decoder) fetchModifiers(o *FetchOptions, uid bool, first string) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	kw := first
	for {
		if kw == "" {
			var err error
			if kw, err = d.Keyword(); err != nil {
				return err
			}
		}
		switch kw {
		case "CHANGEDSINCE":
			if err := d.SP(); err != nil {
				return err
			}
			n, err := d.Number64()
			if err != nil {
				return err
			}
			o.ChangedSince, o.HasChangedSince, o.ModSeq = n, true, true
		case "VANISHED":
			o.Vanished = true
		default:
			return syntaxf("Unknown FETCH modifier %s", kw)
		}
		kw = ""
		if end, err := d.listNext("FETCH modifiers"); end || err != nil {
			return err
		}
	}
}

// fetchAtt reads one fetch-att (or, at top level, a macro).
func (d *Decoder) fetchAtt(o *FetchOptions, top bool, pendingMod *string) error {
	name, err := d.readWhile(func(b byte) bool { return isAtomChar(b) && b != '[' })
	if err != nil {
		return err
	}
	if name == "" {
		b, _ := d.peek()
		return syntaxf("Expected a FETCH item, got %s", describe(b))
	}
	name = strings.ToUpper(name)
	switch name {
	case "ALL", "FAST", "FULL":
		if !top {
			return syntaxf("%s is only allowed alone", name)
		}
		o.Flags, o.InternalDate, o.RFC822Size = true, true, true
		if name != "FAST" {
			o.Envelope = true
		}
		if name == "FULL" {
			d.setBody(o, false)
		}
	case "ENVELOPE":
		o.Envelope = true
	case "FLAGS":
		o.Flags = true
	case "INTERNALDATE":
		o.InternalDate = true
	case "RFC822.SIZE":
		o.RFC822Size = true
	case "UID":
		o.UID = true
	case "MODSEQ":
		o.ModSeq = true // RFC 7162 §3.1.4
	case "EMAILID":
		o.EmailID = true
	case "THREADID":
		o.ThreadID = true
	case "SAVEDATE":
		o.SaveDate = true
	case "BODYSTRUCTURE":
		d.setBody(o, true)
	case "RFC822", "RFC822.PEEK", "RFC822.HEADER", "RFC822.TEXT":
		bs := &imap.FetchItemBodySection{}
		switch name {
		case "RFC822.PEEK":
			bs.Peek = true
		case "RFC822.HEADER":
			bs.Specifier, bs.Peek = imap.PartSpecifierHeader, true
		case "RFC822.TEXT":
			bs.Specifier = imap.PartSpecifierText
		}
		if o.Obsolete == nil {
			o.Obsolete = map[*imap.FetchItemBodySection]string{}
		}
		o.Obsolete[bs] = name
		o.BodySection = append(o.BodySection, bs)
	case "BODY", "BODY.PEEK":
		b, err := d.peek()
		if err != nil {
			return err
		}
		if b != '[' {
			if name == "BODY.PEEK" {
				return syntaxf("BODY.PEEK needs a section")
			}
			d.setBody(o, false)
			return nil
		}
		bs := &imap.FetchItemBodySection{Peek: name == "BODY.PEEK"}
		if err := d.section(bs); err != nil {
			return err
		}
		if bs.Partial, err = d.partial(); err != nil {
			return err
		}
		o.BodySection = append(o.BodySection, bs)
	case "BINARY", "BINARY.PEEK":
		part, err := d.sectionBinary()
		if err != nil {
			return err
		}
		partial, err := d.partial()
		if err != nil {
			return err
		}
		o.BinarySection = append(o.BinarySection, &imap.FetchItemBinarySection{Part: part, Partial: partial, Peek: name == "BINARY.PEEK"})
	case "BINARY.SIZE":
		part, err := d.sectionBinary()
		if err != nil {
			return err
		}
		o.BinarySectionSize = append(o.BinarySectionSize, &imap.FetchItemBinarySectionSize{Part: part})
	case "PREVIEW":
		o.Preview = true
		return d.previewMods(o, top, pendingMod)
	default:
		return syntaxf("Unknown FETCH item %s", name)
	}
	return nil
}

// previewMods reads PREVIEW's optional modifiers (RFC 8970 §3.1:
// "PREVIEW" [SP "(" preview-mod *(SP preview-mod) ")"], preview-mod =
// "LAZY"). At top level "SP (" may open the fetch modifiers instead: the
// first keyword tells, and is handed back through pendingMod.
func (d *Decoder) previewMods(o *FetchOptions, top bool, pendingMod *string) error {
	b, err := d.peek()
	if err != nil || b != ' ' {
		return err
	}
	if !top {
		// Inside the item list, after SP comes another item or "(".
		p, err := d.peek2()
		if err != nil || p[1] != '(' {
			return err
		}
	}
	_, _ = d.readByte()
	if err := d.Expect('('); err != nil {
		return err
	}
	kw, err := d.Keyword()
	if err != nil {
		return err
	}
	if kw != "LAZY" {
		if top {
			*pendingMod = kw
			return nil
		}
		return syntaxf("Unknown PREVIEW modifier %s", kw)
	}
	for {
		o.PreviewLazy = true
		b, err := d.readByte()
		if err != nil {
			return err
		}
		switch b {
		case ')':
			return nil
		case ' ':
			if kw, err = d.Keyword(); err != nil {
				return err
			}
			if kw != "LAZY" {
				return syntaxf("Unknown PREVIEW modifier %s", kw)
			}
		default:
			return syntaxf("Expected SP or ) after PREVIEW modifier, got %s", describe(b))
		}
	}
}

func (d *Decoder) setBody(o *FetchOptions, extended bool) {
	if !extended {
		o.Body = true
	}
	if o.BodyStructure == nil {
		o.BodyStructure = &imap.FetchItemBodyStructure{}
	}
	if extended {
		o.BodyStructure.Extended = true
	}
}

// maxSectionParts bounds the part numbers of one section; no real message
// nests deeper.
const maxSectionParts = 64

// section reads a body section (RFC 9051 §9):
//
//	section = "[" [section-spec] "]"
//	section-spec = section-msgtext / (section-part ["." section-text])
//	section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//	section-text = section-msgtext / "MIME"
func (d *Decoder) section(bs *imap.FetchItemBodySection) error {
	if err := d.Expect('['); err != nil {
		return err
	}
	if ok, err := d.Maybe(']'); ok || err != nil {
		return err
	}
	b, err := d.peek()
	if err != nil {
		return err
	}
	if b >= '0' && b <= '9' {
		if bs.Part, err = d.sectionPart(); err != nil {
			return err
		}
		dot, err := d.Maybe('.')
		if err != nil {
			return err
		}
		if !dot {
			return d.Expect(']')
		}
	}
	spec, err := d.readWhile(func(b byte) bool { return isAtomChar(b) && b != '[' })
	if err != nil {
		return err
	}
	switch strings.ToUpper(spec) {
	case "HEADER":
		bs.Specifier = imap.PartSpecifierHeader
	case "TEXT":
		bs.Specifier = imap.PartSpecifierText
	case "MIME":
		if len(bs.Part) == 0 {
			return syntaxf("MIME needs a part number")
		}
		bs.Specifier = imap.PartSpecifierMIME
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		bs.Specifier = imap.PartSpecifierHeader
		if err := d.SP(); err != nil {
			return err
		}
		var fields []string
		err := d.List(func() error {
			f, err := d.Astring()
			fields = append(fields, f)
			return err
		})
		if err != nil {
			return err
		}
		if len(fields) == 0 {
			return syntaxf("Empty header list")
		}
		if strings.HasSuffix(strings.ToUpper(spec), ".NOT") {
			bs.HeaderFieldsNot = fields
		} else {
			bs.HeaderFields = fields
		}
	default:
		return syntaxf("Unknown section %q", spec)
	}
	return d.Expect(']')
}

// sectionPart reads section-part = nz-number *("." nz-number), stopping
// before a "." that is followed by a section-text.
func (d *Decoder) sectionPart() ([]int, error) {
	var part []int
	for {
		n, err := d.NzNumber()
		if err != nil {
			return nil, err
		}
		if part = append(part, int(n)); len(part) > maxSectionParts {
			return nil, syntaxf("Section nests too deep")
		}
		if b, err := d.peek2(); err != nil || b[0] != '.' || b[1] < '0' || b[1] > '9' {
			return part, err
		}
		_, _ = d.readByte()
	}
}

// sectionBinary reads section-binary = "[" [section-part] "]".
func (d *Decoder) sectionBinary() ([]int, error) {
	if err := d.Expect('['); err != nil {
		return nil, err
	}
	if ok, err := d.Maybe(']'); ok || err != nil {
		return []int{}, err
	}
	part, err := d.sectionPart()
	if err != nil {
		return nil, err
	}
	return part, d.Expect(']')
}

// partial reads an optional partial = "<" number64 "." nz-number64 ">"
// (RFC 9051 §9). Offset and size are within 2^63-1 each; their sum may
// not be, and readers must clamp.
func (d *Decoder) partial() (*imap.SectionPartial, error) {
	if ok, err := d.Maybe('<'); !ok || err != nil {
		return nil, err
	}
	off, err := d.Number64()
	if err != nil {
		return nil, err
	}
	if err := d.Expect('.'); err != nil {
		return nil, err
	}
	size, err := d.Number64()
	if err != nil {
		return nil, err
	}
	if size == 0 {
		return nil, syntaxf("Partial size must not be zero")
	}
	if err := d.Expect('>'); err != nil {
		return nil, err
	}
	return &imap.SectionPartial{Offset: int64(off), Size: int64(size)}, nil
}
