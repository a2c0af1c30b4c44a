package wire

import (
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
)

// SearchCriteria is a SEARCH program (RFC 9051 §6.4.4): go-imap's
// imap.SearchCriteria, field for field (so search code over it carries
// over), with the keys it lacks. All fields must match (AND); Not and Or
// nest.
//
// Mapping of keys: FROM, TO, CC, BCC and SUBJECT are Header entries
// (Key "From"...); ON d is Since d and Before d+1 day (SENTON, SAVEDON
// alike); ANSWERED, DELETED... are Flag or NotFlag entries, KEYWORD and
// UNKEYWORD too; IMAP4rev1's RECENT, NEW (RECENT UNSEEN) and OLD (NOT
// RECENT) use FlagRecent (RFC 3501 §6.4.4); "$" is a UID entry
// imap.SearchRes() (RFC 5182 §2.1); SMALLER 0, which nothing matches, is
// Not{{}} (NOT ALL).
type SearchCriteria struct {
	SeqNum []imap.SeqSet
	UID    []imap.UIDSet

	// Only the date counts, in the server's time zone (RFC 9051 §6.4.4).
	Since      time.Time
	Before     time.Time
	SentSince  time.Time
	SentBefore time.Time

	Header []imap.SearchCriteriaHeaderField
	Body   []string
	Text   []string

	Flag    []imap.Flag
	NotFlag []imap.Flag

	Larger  int64
	Smaller int64

	Not []SearchCriteria
	Or  [][2]SearchCriteria

	ModSeq *imap.SearchCriteriaModSeq // RFC 7162 §3.1.5

	// Younger and Older are seconds (RFC 5032 WITHIN); 0 is none.
	Younger uint32
	Older   uint32
	// SAVEDBEFORE/SAVEDON/SAVEDSINCE and SAVEDATESUPPORTED (RFC 8514 §4).
	SavedSince        time.Time
	SavedBefore       time.Time
	SaveDateSupported bool
	// EMAILID and THREADID (RFC 8474 §6).
	EmailID  []string
	ThreadID []string
}

// And adds other's conditions to c (both must hold).
func (c *SearchCriteria) And(o *SearchCriteria) {
	c.SeqNum = append(c.SeqNum, o.SeqNum...)
	c.UID = append(c.UID, o.UID...)
	c.Since = laterOf(c.Since, o.Since)
	c.Before = earlierOf(c.Before, o.Before)
	c.SentSince = laterOf(c.SentSince, o.SentSince)
	c.SentBefore = earlierOf(c.SentBefore, o.SentBefore)
	c.SavedSince = laterOf(c.SavedSince, o.SavedSince)
	c.SavedBefore = earlierOf(c.SavedBefore, o.SavedBefore)
	c.Header = append(c.Header, o.Header...)
	c.Body = append(c.Body, o.Body...)
	c.Text = append(c.Text, o.Text...)
	c.Flag = append(c.Flag, o.Flag...)
	c.NotFlag = append(c.NotFlag, o.NotFlag...)
	if o.Larger > c.Larger {
		c.Larger = o.Larger
	}
	if o.Smaller != 0 && (c.Smaller == 0 || o.Smaller < c.Smaller) {
		c.Smaller = o.Smaller
	}
	c.Not = append(c.Not, o.Not...)
	c.Or = append(c.Or, o.Or...)
	if o.ModSeq != nil {
		if c.ModSeq == nil {
			c.ModSeq = o.ModSeq
		} else {
			// Both must hold: keep one, the other as a nested condition.
			c.Not = append(c.Not, SearchCriteria{Not: []SearchCriteria{{ModSeq: o.ModSeq}}})
		}
	}
	if o.Younger != 0 && (c.Younger == 0 || o.Younger < c.Younger) {
		c.Younger = o.Younger
	}
	if o.Older > c.Older {
		c.Older = o.Older
	}
	c.SaveDateSupported = c.SaveDateSupported || o.SaveDateSupported
	c.EmailID = append(c.EmailID, o.EmailID...)
	c.ThreadID = append(c.ThreadID, o.ThreadID...)
}

func laterOf(a, b time.Time) time.Time {
	if a.IsZero() || b.After(a) {
		return b
	}
	return a
}

func earlierOf(a, b time.Time) time.Time {
	if a.IsZero() || (!b.IsZero() && b.Before(a)) {
		return b
	}
	return a
}

// IMAP returns the part of c go-imap's type can express. It drops the keys
// go-imap lacks: use it only where they were refused or are unused
// (Extended tells).
func (c *SearchCriteria) IMAP() *imap.SearchCriteria {
	out := &imap.SearchCriteria{
		SeqNum: c.SeqNum, UID: c.UID,
		Since: c.Since, Before: c.Before, SentSince: c.SentSince, SentBefore: c.SentBefore,
		Header: c.Header, Body: c.Body, Text: c.Text, Flag: c.Flag, NotFlag: c.NotFlag,
		Larger: c.Larger, Smaller: c.Smaller, ModSeq: c.ModSeq,
	}
	for i := range c.Not {
		out.Not = append(out.Not, *c.Not[i].IMAP())
	}
	for i := range c.Or {
		out.Or = append(out.Or, [2]imap.SearchCriteria{*c.Or[i][0].IMAP(), *c.Or[i][1].IMAP()})
	}
	return out
}

// Extended reports whether c (at any depth) uses a key go-imap's type
// lacks: YOUNGER, OLDER, SAVED*, EMAILID, THREADID.
func (c *SearchCriteria) Extended() bool {
	if c.Younger != 0 || c.Older != 0 || !c.SavedSince.IsZero() || !c.SavedBefore.IsZero() ||
		c.SaveDateSupported || len(c.EmailID) > 0 || len(c.ThreadID) > 0 {
		return true
	}
	for i := range c.Not {
		if c.Not[i].Extended() {
			return true
		}
	}
	for i := range c.Or {
		if c.Or[i][0].Extended() || c.Or[i][1].Extended() {
			return true
		}
	}
	return false
}

// SearchCommand is a SEARCH or UID SEARCH.
type SearchCommand struct {
	UID bool
	// Return is non-nil when RETURN was given (RFC 4731 §3.1, RFC 9051
	// §6.4.4): the answer is then ESEARCH. An empty "RETURN ()" means
	// ALL, and is returned so.
	Return *imap.SearchOptions
	// ReturnExt holds the RETURN options go-imap's type lacks.
	ReturnExt SearchReturn
	// Charset is the CHARSET argument in upper case, "" if none. The
	// dispatcher refuses those it cannot handle with
	// NO [BADCHARSET (UTF-8 US-ASCII)] (RFC 9051 §6.4.4).
	Charset  string
	Criteria SearchCriteria
}

// ReadSearch reads the arguments of SEARCH or UID SEARCH through the end
// of the command:
//
//	search = "SEARCH" [search-return-opts] [SP "CHARSET" SP charset]
//	         1*(SP search-key)
func (d *Decoder) ReadSearch(uid bool) (*SearchCommand, error) {
	c := &SearchCommand{UID: uid}
	if err := d.SP(); err != nil {
		return nil, err
	}
	// RETURN and CHARSET are told from search keys by their names: no
	// search key is called so.
	kw, err := d.peekKeyword()
	if err != nil {
		return nil, err
	}
	if kw == "RETURN" {
		if c.Return, c.ReturnExt, err = d.searchReturn(); err != nil {
			return nil, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
		if kw, err = d.peekKeyword(); err != nil {
			return nil, err
		}
	}
	if kw == "CHARSET" {
		if c.Charset, err = d.searchCharset(); err != nil {
			return nil, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	if err := d.searchKeys(&c.Criteria); err != nil {
		return nil, err
	}
	return c, d.End()
}

// peekKeyword reads nothing: it reports the alphabetic word ahead
// (upper case, at most 8 letters, enough to tell RETURN and CHARSET), or
// "" when the next byte is not a letter. The letters are in the
// bufio.Reader's buffer already or on the same line.
func (d *Decoder) peekKeyword() (string, error) {
	b, err := d.peek()
	if err != nil {
		return "", err
	}
	if !isLetter(b) {
		return "", nil
	}
	// A keyword is followed by at least SP or the line's end, so peeking
	// ahead one letter at a time never waits past the line.
	n := 1
	for n < 8 {
		p, err := d.r.Peek(n + 1)
		if err != nil {
			return "", err
		}
		if !isLetter(p[n]) {
			break
		}
		n++
	}
	p, _ := d.r.Peek(n)
	return strings.ToUpper(string(p)), nil
}

func isLetter(b byte) bool { return b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' }

// SearchReturn is what RETURN asks beyond go-imap's options: RFC 5267's
// CONTEXT=SEARCH/SORT (CONTEXT, UPDATE, PARTIAL) and RFC 9394's PARTIAL.
// The dispatcher refuses what it does not serve.
type SearchReturn struct {
	Partial *PartialRange
	Update  bool // RFC 5267 §4.3
	Context bool // RFC 5267 §4.2
}

// PartialRange is a PARTIAL range (RFC 9394 §3, RFC 5267 §4.4): results
// First to Last (1-based, First <= Last), counted from the end when
// FromEnd ("-1:-100", RFC 9394).
type PartialRange struct {
	First, Last uint32
	FromEnd     bool
}

// searchReturn reads "RETURN" SP "(" [search-return-opt *(SP
// search-return-opt)] ")" (RFC 4731 §3.1, RFC 5182 §2.1, RFC 5267 §4,
// RFC 9394 §3).
func (d *Decoder) searchReturn() (*imap.SearchOptions, SearchReturn, error) {
	var ext SearchReturn
	if err := d.ExpectKeyword("RETURN"); err != nil {
		return nil, ext, err
	}
	if err := d.SP(); err != nil {
		return nil, ext, err
	}
	o := &imap.SearchOptions{}
	n := 0
	err := d.List(func() error {
		n++
		kw, err := d.Keyword()
		if err != nil {
			return err
		}
		switch kw {
		case "MIN":
			o.ReturnMin = true
		case "MAX":
			o.ReturnMax = true
		case "ALL":
			o.ReturnAll = true
		case "COUNT":
			o.ReturnCount = true
		case "SAVE":
			o.ReturnSave = true
		case "UPDATE":
			ext.Update = true
		case "CONTEXT":
			ext.Context = true
		case "PARTIAL":
			if ext.Partial != nil {
				return syntaxf("PARTIAL given twice")
			}
			if err := d.SP(); err != nil {
				return err
			}
			ext.Partial, err = d.partialRange()
			return err
		default:
			return syntaxf("Unknown RETURN option %s", kw)
		}
		return nil
	})
	if n == 0 {
		o.ReturnAll = true // RFC 4731 §3.1
	}
	return o, ext, err
}

// partialRange reads nz-number ":" nz-number, or both negated.
func (d *Decoder) partialRange() (*PartialRange, error) {
	p := &PartialRange{}
	neg, err := d.Maybe('-')
	if err != nil {
		return nil, err
	}
	p.FromEnd = neg
	if p.First, err = d.NzNumber(); err != nil {
		return nil, err
	}
	if err := d.Expect(':'); err != nil {
		return nil, err
	}
	if neg {
		if err := d.Expect('-'); err != nil {
			return nil, err
		}
	}
	if p.Last, err = d.NzNumber(); err != nil {
		return nil, err
	}
	if p.First > p.Last {
		p.First, p.Last = p.Last, p.First
	}
	return p, nil
}

func (d *Decoder) searchCharset() (string, error) {
	if err := d.ExpectKeyword("CHARSET"); err != nil {
		return "", err
	}
	if err := d.SP(); err != nil {
		return "", err
	}
	cs, err := d.Astring()
	return strings.ToUpper(cs), err
}

// searchKeys reads 1*(search-key) separated by SP, up to the end of the
// command or a ")" (left unread), into c.
func (d *Decoder) searchKeys(c *SearchCriteria) error {
	for {
		if err := d.searchKey(c); err != nil {
			return err
		}
		b, err := d.peek()
		if err != nil {
			return err
		}
		if b != ' ' {
			return nil
		}
		_, _ = d.readByte()
	}
}

// searchKey reads one search-key (RFC 9051 §9, RFC 3501 §9, and the
// extensions of SearchCriteria) and adds it to c.
func (d *Decoder) searchKey(c *SearchCriteria) error {
	if err := d.enter(); err != nil {
		return err
	}
	defer d.leave()
	b, err := d.peek()
	if err != nil {
		return err
	}
	switch {
	case b == '(':
		_, _ = d.readByte()
		var sub SearchCriteria
		if err := d.searchKeys(&sub); err != nil {
			return err
		}
		if err := d.Expect(')'); err != nil {
			return err
		}
		c.And(&sub)
		return nil
	case b >= '0' && b <= '9' || b == '*' || b == '$':
		set, err := d.NumSet(false)
		if err != nil {
			return err
		}
		if imap.IsSearchRes(set) {
			c.UID = append(c.UID, imap.SearchRes())
		} else {
			c.SeqNum = append(c.SeqNum, set.(imap.SeqSet))
		}
		return nil
	}
	kw, err := d.Keyword()
	if err != nil {
		return err
	}
	arg := func() (string, error) {
		if err := d.SP(); err != nil {
			return "", err
		}
		return d.Astring()
	}
	date := func() (time.Time, error) {
		if err := d.SP(); err != nil {
			return time.Time{}, err
		}
		return d.Date()
	}
	flag := func(f imap.Flag, not bool) {
		if not {
			c.NotFlag = append(c.NotFlag, f)
		} else {
			c.Flag = append(c.Flag, f)
		}
	}
	switch kw {
	case "ALL":
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN", "RECENT":
		flag(canonicalFlag(`\`+kw), false)
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		flag(canonicalFlag(`\`+kw[2:]), true)
	case "NEW":
		flag(FlagRecent, false)
		flag(imap.FlagSeen, true)
	case "OLD":
		flag(FlagRecent, true)
	case "KEYWORD", "UNKEYWORD":
		if err := d.SP(); err != nil {
			return err
		}
		f, err := d.Flag()
		if err != nil {
			return err
		}
		flag(f, kw == "UNKEYWORD")
	case "BCC", "CC", "FROM", "SUBJECT", "TO":
		v, err := arg()
		if err != nil {
			return err
		}
		key := kw[:1] + strings.ToLower(kw[1:])
		c.Header = append(c.Header, imap.SearchCriteriaHeaderField{Key: key, Value: v})
	case "HEADER":
		k, err := arg()
		if err != nil {
			return err
		}
		v, err := arg()
		if err != nil {
			return err
		}
		c.Header = append(c.Header, imap.SearchCriteriaHeaderField{Key: k, Value: v})
	case "BODY", "TEXT":
		v, err := arg()
		if err != nil {
			return err
		}
		if kw == "BODY" {
			c.Body = append(c.Body, v)
		} else {
			c.Text = append(c.Text, v)
		}
	case "SINCE", "BEFORE", "ON", "SENTSINCE", "SENTBEFORE", "SENTON", "SAVEDSINCE", "SAVEDBEFORE", "SAVEDON":
		t, err := date()
		if err != nil {
			return err
		}
		var sub SearchCriteria
		since, before := &sub.Since, &sub.Before
		switch {
		case strings.HasPrefix(kw, "SENT"):
			since, before = &sub.SentSince, &sub.SentBefore
		case strings.HasPrefix(kw, "SAVED"):
			since, before = &sub.SavedSince, &sub.SavedBefore
		}
		switch {
		case strings.HasSuffix(kw, "SINCE"):
			*since = t
		case strings.HasSuffix(kw, "BEFORE"):
			*before = t
		default: // ON
			*since, *before = t, t.AddDate(0, 0, 1)
		}
		c.And(&sub)
	case "SAVEDATESUPPORTED":
		c.SaveDateSupported = true
	case "LARGER", "SMALLER":
		if err := d.SP(); err != nil {
			return err
		}
		n, err := d.Number64()
		if err != nil {
			return err
		}
		switch {
		case kw == "LARGER":
			c.And(&SearchCriteria{Larger: int64(n)})
		case n == 0:
			c.Not = append(c.Not, SearchCriteria{})
		default:
			c.And(&SearchCriteria{Smaller: int64(n)})
		}
	case "YOUNGER", "OLDER":
		if err := d.SP(); err != nil {
			return err
		}
		n, err := d.NzNumber()
		if err != nil {
			return err
		}
		if kw == "YOUNGER" {
			c.And(&SearchCriteria{Younger: n})
		} else {
			c.And(&SearchCriteria{Older: n})
		}
	case "UID":
		if err := d.SP(); err != nil {
			return err
		}
		set, err := d.UIDSet()
		if err != nil {
			return err
		}
		c.UID = append(c.UID, set)
	case "NOT":
		if err := d.SP(); err != nil {
			return err
		}
		var sub SearchCriteria
		if err := d.searchKey(&sub); err != nil {
			return err
		}
		c.Not = append(c.Not, sub)
	case "OR":
		var pair [2]SearchCriteria
		for i := range pair {
			if err := d.SP(); err != nil {
				return err
			}
			if err := d.searchKey(&pair[i]); err != nil {
				return err
			}
		}
		c.Or = append(c.Or, pair)
	case "MODSEQ":
		m, err := d.searchModSeq()
		if err != nil {
			return err
		}
		c.And(&SearchCriteria{ModSeq: m})
	case "EMAILID", "THREADID":
		if err := d.SP(); err != nil {
			return err
		}
		id, err := d.ObjectID()
		if err != nil {
			return err
		}
		if kw == "EMAILID" {
			c.EmailID = append(c.EmailID, id)
		} else {
			c.ThreadID = append(c.ThreadID, id)
		}
	default:
		return syntaxf("Unknown search key %s", kw)
	}
	return nil
}

// searchModSeq reads the rest of the MODSEQ key (RFC 7162 §3.1.5):
//
//	"MODSEQ" [search-modseq-ext] SP mod-sequence-valzer
//	search-modseq-ext = SP entry-name SP entry-type-req
//	entry-name = entry-flag-name   ; DQUOTE "/flags/" attr-flag DQUOTE
//	entry-type-req = "priv" / "shared" / "all"
func (d *Decoder) searchModSeq() (*imap.SearchCriteriaModSeq, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	m := &imap.SearchCriteriaModSeq{}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b == '"' {
		name, err := d.Quoted()
		if err != nil {
			return nil, err
		}
		if !strings.HasPrefix(strings.ToLower(name), "/flags/") || len(name) == len("/flags/") {
			return nil, syntaxf("Invalid MODSEQ entry name %q", name)
		}
		m.MetadataName = name
		if err := d.SP(); err != nil {
			return nil, err
		}
		typ, err := d.Keyword()
		if err != nil {
			return nil, err
		}
		switch typ {
		case "PRIV":
			m.MetadataType = imap.SearchCriteriaMetadataPrivate
		case "SHARED":
			m.MetadataType = imap.SearchCriteriaMetadataShared
		case "ALL":
			m.MetadataType = imap.SearchCriteriaMetadataAll
		default:
			return nil, syntaxf("Invalid MODSEQ entry type %s", typ)
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	if m.ModSeq, err = d.Number64(); err != nil {
		return nil, err
	}
	return m, nil
}

// ObjectID reads an objectid (RFC 8474 §4: 1*255(ALPHA / DIGIT / "_" /
// "-")).
func (d *Decoder) ObjectID() (string, error) {
	s, err := d.readWhile(func(b byte) bool { return isLetter(b) || b >= '0' && b <= '9' || b == '_' || b == '-' })
	if err != nil {
		return "", err
	}
	if s == "" || len(s) > 255 {
		return "", syntaxf("Invalid object id")
	}
	return s, nil
}
