package imap

import (
	"bufio"
	"io"
	"net/url"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
	"github.com/surat-mail/surat/protocols/imap/wire"
)

// CATENATE (RFC 4469): an APPEND whose message is assembled from TEXT
// literals and URL parts. A URL part names a message, or a section of
// one, in one of the user's own mailboxes, as an IMAP URL (RFC 5092):
// "imap://user@host/mailbox;UIDVALIDITY=n/;UID=n/;SECTION=s/;PARTIAL=o.l"
// or the same from the "/" on. Anything else (another user's mailbox,
// URLAUTH, a message that does not exist, a UIDVALIDITY that does not
// match) is NO [BADURL url] (RFC 4469 §6).

// catURL is a parsed CATENATE URL.
type catURL struct {
	mailbox     string
	uidValidity uint32 // 0: not given
	uid         uint32
	section     string // "": the whole message
	partial     *imap.SectionPartial
}

// parseCatenateURL parses a CATENATE URL of user's (see above).
func parseCatenateURL(raw, user string) (*catURL, bool) {
	path := raw
	if len(path) >= 7 && strings.EqualFold(path[:7], "imap://") {
		rest := path[7:]
		slash := strings.IndexByte(rest, '/')
		if slash < 0 {
			return nil, false
		}
		auth := rest[:slash]
		at := strings.LastIndexByte(auth, '@')
		if at < 0 {
			return nil, false
		}
		who := auth[:at]
		if i := strings.IndexByte(who, ';'); i >= 0 {
			who = who[:i] // ";AUTH=..." (RFC 5092 §3.2)
		}
		who, err := url.PathUnescape(who)
		if err != nil || !strings.EqualFold(who, user) {
			return nil, false
		}
		path = rest[slash:]
	}
	if !strings.HasPrefix(path, "/") {
		return nil, false
	}
	i := indexASCIIFold(path, "/;UID=")
	if i < 1 {
		return nil, false
	}
	u := &catURL{}
	mbox := path[1:i]
	if j := indexASCIIFold(mbox, ";UIDVALIDITY="); j >= 0 {
		n, err := strconv.ParseUint(mbox[j+len(";UIDVALIDITY="):], 10, 32)
		if err != nil || n == 0 {
			return nil, false
		}
		u.uidValidity = uint32(n)
		mbox = mbox[:j]
	}
	var err error
	if u.mailbox, err = url.PathUnescape(mbox); err != nil || u.mailbox == "" {
		return nil, false
	}
	for k, field := range strings.Split(path[i+1:], "/") {
		key, value, ok := strings.Cut(field, "=")
		if !ok {
			return nil, false
		}
		switch key = strings.ToUpper(key); {
		case k == 0 && key == ";UID":
			n, err := strconv.ParseUint(value, 10, 32)
			if err != nil || n == 0 {
				return nil, false
			}
			u.uid = uint32(n)
		case k > 0 && key == ";SECTION" && u.section == "" && u.partial == nil:
			if u.section, err = url.PathUnescape(value); err != nil || u.section == "" {
				return nil, false
			}
		case k > 0 && key == ";PARTIAL" && u.partial == nil:
			off, size, hasSize := strings.Cut(value, ".")
			o, err := strconv.ParseUint(off, 10, 32)
			if err != nil {
				return nil, false
			}
			u.partial = &imap.SectionPartial{Offset: int64(o), Size: 1<<32 - 1}
			if hasSize {
				n, err := strconv.ParseUint(size, 10, 32)
				if err != nil || n == 0 {
					return nil, false
				}
				u.partial.Size = int64(n)
			}
		default: // URLAUTH and the rest: not served
			return nil, false
		}
	}
	return u, true
}

// indexASCIIFold is strings.Index ignoring ASCII case (upper-casing s
// could change its length where it is not UTF-8); upper is upper case.
func indexASCIIFold(s, upper string) int {
	for i := 0; i+len(upper) <= len(s); i++ {
		if strings.EqualFold(s[i:i+len(upper)], upper) {
			return i
		}
	}
	return -1
}

// catenateURL returns the octets a CATENATE URL part names, or NO
// [BADURL url].
func (s *session) catenateURL(raw string) ([]byte, error) {
	badURL := no(imap.ResponseCode("BADURL "+raw), "Bad URL")
	u, ok := parseCatenateURL(raw, s.user)
	if !ok {
		return nil, badURL
	}
	mb, err := s.srv.cfg.Store.MailboxByName(s.user, u.mailbox)
	if err != nil || (u.uidValidity != 0 && u.uidValidity != mb.GetUidValidity()) {
		return nil, badURL
	}
	rec, err := s.srv.cfg.Store.Message(mb.GetId(), u.uid)
	if err != nil {
		return nil, badURL
	}
	body, err := s.srv.cfg.Store.Blob(rec.GetBlob())
	if err != nil {
		return nil, replyFor(err)
	}
	bs := &imap.FetchItemBodySection{Partial: u.partial}
	if u.section != "" {
		// The section's grammar is FETCH's (RFC 5092 §4: section as in
		// RFC 3501's fetch-att).
		d := wire.NewDecoder(bufio.NewReader(strings.NewReader(" 1 BODY.PEEK["+u.section+"]\r\n")), wire.Limits{})
		fc, err := d.ReadFetch(false)
		if err != nil || len(fc.Options.BodySection) != 1 {
			return nil, badURL
		}
		bs = fc.Options.BodySection[0]
		bs.Partial = u.partial
	}
	switch {
	case wholeBody(bs):
		return imapmsg.PartialOf(body, bs.Partial), nil
	case headerOnly(bs):
		return imapmsg.PartialOf(imapmsg.HeaderSection(body, bs), bs.Partial), nil
	}
	data, _ := imapmsg.Parse(body).BodySection(bs)
	return data, nil
}

// readCatenate assembles the message of a CATENATE (the parts after
// "CATENATE ("), checking the mailbox, APPENDLIMIT and quota (through
// check) before each TEXT literal's continuation and once the whole is
// known. binary reports a literal8 part.
func (s *session) readCatenate(check func(size int64) error) (body []byte, binary bool, err error) {
	d := s.dec
	for {
		p, err := d.NextCatenatePart()
		if err != nil {
			return nil, false, err
		}
		if p == nil {
			return body, binary, check(int64(len(body)))
		}
		if !p.Text {
			data, err := s.catenateURL(p.URL)
			if err != nil {
				return nil, false, err
			}
			body = append(body, data...)
			if err := check(int64(len(body))); err != nil {
				return nil, false, err
			}
			continue
		}
		if err := check(int64(len(body)) + p.Literal.Size); err != nil {
			return nil, false, err
		}
		r, err := d.AcceptLiteral()
		if err != nil {
			return nil, false, err
		}
		s.setReadDeadline(literalRead)
		at := len(body)
		body = append(body, make([]byte, p.Literal.Size)...)
		if _, err := io.ReadFull(r, body[at:]); err != nil {
			return nil, false, err
		}
		s.setReadDeadline(commandRead)
		binary = binary || p.Literal.Binary
	}
}
