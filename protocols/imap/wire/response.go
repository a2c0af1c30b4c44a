package wire

import (
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"
)

// Response helpers shared by the command handlers: the names FETCH data
// items are answered with, and the untagged responses several commands
// send.

// BodySectionName writes the name a BODY[...] item is answered with
// (RFC 9051 §7.5.2): "BODY[section]", with "<origin>" when a partial was
// asked; BODY.PEEK is answered as BODY; obsolete, when not empty, is the
// RFC822 name asked for ("RFC822", "RFC822.HEADER", "RFC822.TEXT"; an
// RFC822.PEEK is answered as RFC822).
func (e *Encoder) BodySectionName(bs *imap.FetchItemBodySection, obsolete string) *Encoder {
	if obsolete != "" {
		if obsolete == "RFC822.PEEK" {
			obsolete = "RFC822"
		}
		return e.Raw(obsolete)
	}
	e.Raw("BODY[")
	e.sectionPart(bs.Part)
	if bs.Specifier != imap.PartSpecifierNone {
		if len(bs.Part) > 0 {
			e.byte('.')
		}
		e.Raw(string(bs.Specifier))
		switch {
		case len(bs.HeaderFields) > 0:
			e.Raw(".FIELDS ").headerList(bs.HeaderFields)
		case len(bs.HeaderFieldsNot) > 0:
			e.Raw(".FIELDS.NOT ").headerList(bs.HeaderFieldsNot)
		}
	}
	e.byte(']')
	return e.origin(bs.Partial)
}

// BinarySectionName writes "BINARY[part]" with "<origin>" when a partial
// was asked (RFC 3516 §4.2; BINARY.PEEK is answered as BINARY).
func (e *Encoder) BinarySectionName(part []int, partial *imap.SectionPartial) *Encoder {
	e.Raw("BINARY[").sectionPart(part).byte(']')
	return e.origin(partial)
}

// BinarySizeName writes "BINARY.SIZE[part]" (RFC 3516 §4.2).
func (e *Encoder) BinarySizeName(part []int) *Encoder {
	return e.Raw("BINARY.SIZE[").sectionPart(part).byte(']')
}

func (e *Encoder) sectionPart(part []int) *Encoder {
	for i, p := range part {
		if i > 0 {
			e.byte('.')
		}
		e.Raw(strconv.Itoa(p))
	}
	return e
}

func (e *Encoder) headerList(fields []string) *Encoder {
	return e.List(len(fields), func(i int) { e.AString(fields[i]) })
}

func (e *Encoder) origin(p *imap.SectionPartial) *Encoder {
	if p == nil {
		return e
	}
	return e.byte('<').Number64(uint64(p.Offset)).byte('>')
}

// ESearchData is the data of an ESEARCH response (RFC 4731 §3.1, RFC 9051
// §7.3.4). Count is sent when asked; Min, Max and All only when there is
// a result (RFC 9051 §6.4.4.1).
type ESearchData struct {
	Min, Max uint32
	Count    uint32
	All      imap.NumSet // nil or empty: no result
	ModSeq   uint64      // 0: not sent (RFC 7162 §3.1.5)

	ReturnMin, ReturnMax, ReturnCount, ReturnAll bool
}

// ESearch writes "* ESEARCH (TAG tag) [UID] ..." CRLF.
func (e *Encoder) ESearch(tag string, uid bool, d *ESearchData) *Encoder {
	e.Untagged().Raw("ESEARCH")
	if tag != "" {
		e.Raw(" (TAG ").Quoted(tag).byte(')')
	}
	if uid {
		e.Raw(" UID")
	}
	found := d.All != nil && d.All.String() != ""
	if d.ReturnMin && found && d.Min != 0 {
		e.Raw(" MIN ").Number(d.Min)
	}
	if d.ReturnMax && found && d.Max != 0 {
		e.Raw(" MAX ").Number(d.Max)
	}
	if d.ReturnCount {
		e.Raw(" COUNT ").Number(d.Count)
	}
	if d.ReturnAll && found {
		e.Raw(" ALL ").NumSet(d.All)
	}
	if d.ModSeq != 0 {
		e.Raw(" MODSEQ ").Number64(d.ModSeq)
	}
	return e.CRLF()
}

// Vanished writes "* VANISHED [(EARLIER)] uids" CRLF (RFC 7162 §3.2.10).
func (e *Encoder) Vanished(earlier bool, uids imap.UIDSet) *Encoder {
	e.Untagged().Raw("VANISHED ")
	if earlier {
		e.Raw("(EARLIER) ")
	}
	return e.NumSet(uids).CRLF()
}

// MailboxStatus writes "* STATUS mailbox (items)" CRLF (RFC 9051 §7.2.4)
// with the items set in d, and MAILBOXID (RFC 8474 §4.2) when mailboxID
// is not empty.
func (e *Encoder) MailboxStatus(d *imap.StatusData, mailboxID string) *Encoder {
	e.Untagged().Raw("STATUS ").Mailbox(d.Mailbox).Raw(" (")
	sep := ""
	item := func(name string) *Encoder {
		e.Raw(sep).Raw(name).SP()
		sep = " "
		return e
	}
	if d.NumMessages != nil {
		item("MESSAGES").Number(*d.NumMessages)
	}
	if d.NumRecent != nil {
		item("RECENT").Number(*d.NumRecent)
	}
	if d.UIDNext != 0 {
		item("UIDNEXT").Number(uint32(d.UIDNext))
	}
	if d.UIDValidity != 0 {
		item("UIDVALIDITY").Number(d.UIDValidity)
	}
	if d.NumUnseen != nil {
		item("UNSEEN").Number(*d.NumUnseen)
	}
	if d.NumDeleted != nil {
		item("DELETED").Number(*d.NumDeleted)
	}
	if d.Size != nil {
		item("SIZE").Number64(uint64(*d.Size))
	}
	if d.AppendLimit != nil {
		item("APPENDLIMIT").Number(*d.AppendLimit)
	}
	if d.DeletedStorage != nil {
		item("DELETED-STORAGE").Number64(uint64(*d.DeletedStorage))
	}
	if d.HighestModSeq != 0 {
		item("HIGHESTMODSEQ").Number64(d.HighestModSeq)
	}
	if mailboxID != "" {
		item("MAILBOXID").byte('(').Raw(mailboxID).byte(')')
	}
	return e.byte(')').CRLF()
}

// ListData writes "* LIST (attrs) delim mailbox [extended]" CRLF
// (RFC 9051 §7.3.1; command is "LIST" or "LSUB"). Delim 0 is NIL. The
// extended items are CHILDINFO ("SUBSCRIBED") and OLDNAME (RFC 5258 §4,
// RFC 9051 §7.3.1), sent when set.
func (e *Encoder) ListData(command string, l *imap.ListData) *Encoder {
	e.Untagged().Raw(command).SP()
	e.List(len(l.Attrs), func(i int) { e.Raw(string(l.Attrs[i])) }).SP()
	if l.Delim == 0 {
		e.NIL()
	} else {
		e.Quoted(string(l.Delim))
	}
	e.SP().Mailbox(l.Mailbox)
	var ext []func()
	if l.ChildInfo != nil && l.ChildInfo.Subscribed {
		ext = append(ext, func() { e.Raw(`"CHILDINFO" ("SUBSCRIBED")`) })
	}
	if l.OldName != "" {
		ext = append(ext, func() { e.Raw(`"OLDNAME" (`).Mailbox(l.OldName).byte(')') })
	}
	if len(ext) > 0 {
		e.SP().List(len(ext), func(i int) { ext[i]() })
	}
	return e.CRLF()
}

// Capabilities writes "CAPABILITY" and the capabilities, space separated
// (for the untagged response or the response code).
func (e *Encoder) Capabilities(caps []string) *Encoder {
	return e.Raw("CAPABILITY ").Raw(strings.Join(caps, " "))
}
