package wire

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// SortKey is a SORT key (RFC 5256 §3; DISPLAYFROM and DISPLAYTO from
// RFC 5957 §3).
type SortKey string

const (
	SortArrival     SortKey = "ARRIVAL"
	SortCc          SortKey = "CC"
	SortDate        SortKey = "DATE"
	SortFrom        SortKey = "FROM"
	SortSize        SortKey = "SIZE"
	SortSubject     SortKey = "SUBJECT"
	SortTo          SortKey = "TO"
	SortDisplayFrom SortKey = "DISPLAYFROM"
	SortDisplayTo   SortKey = "DISPLAYTO"
)

// SortCriterion is one sort key, possibly reversed.
type SortCriterion struct {
	Key     SortKey
	Reverse bool
}

// SortCommand is a SORT or UID SORT.
type SortCommand struct {
	UID bool
	// Return is non-nil with ESORT's RETURN (RFC 5267 §3.2): the answer
	// is then ESEARCH; "RETURN ()" means ALL. SAVE is allowed too
	// (RFC 5182 §2.4).
	Return *imap.SearchOptions
	// ReturnExt holds CONTEXT=SORT's options (RFC 5267).
	ReturnExt SearchReturn
	Criteria  []SortCriterion
	// Charset is mandatory in SORT (RFC 5256 §3), upper case.
	Charset string
	Search  SearchCriteria
}

// ReadSort reads the arguments of SORT or UID SORT through the end of the
// command:
//
//	sort = "SORT" [SP sort-return-opts] SP sort-criteria SP charset
//	       1*(SP search-key)
//	sort-criteria = "(" sort-criterion *(SP sort-criterion) ")"
//	sort-criterion = ["REVERSE" SP] sort-key
func (d *Decoder) ReadSort(uid bool) (*SortCommand, error) {
	c := &SortCommand{UID: uid}
	if err := d.SP(); err != nil {
		return nil, err
	}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b == 'R' || b == 'r' {
		if c.Return, c.ReturnExt, err = d.searchReturn(); err != nil {
			return nil, err
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	err = d.List(func() error {
		kw, err := d.Keyword()
		if err != nil {
			return err
		}
		var sc SortCriterion
		if kw == "REVERSE" {
			sc.Reverse = true
			if err := d.SP(); err != nil {
				return err
			}
			if kw, err = d.Keyword(); err != nil {
				return err
			}
		}
		switch k := SortKey(kw); k {
		case SortArrival, SortCc, SortDate, SortFrom, SortSize, SortSubject, SortTo, SortDisplayFrom, SortDisplayTo:
			sc.Key = k
		default:
			return syntaxf("Unknown sort key %s", kw)
		}
		c.Criteria = append(c.Criteria, sc)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.Criteria) == 0 {
		return nil, syntaxf("Empty sort criteria")
	}
	if c.Charset, err = d.charsetAndKeys(&c.Search); err != nil {
		return nil, err
	}
	return c, d.End()
}

// charsetAndKeys reads SP charset 1*(SP search-key), as SORT and THREAD
// take them.
func (d *Decoder) charsetAndKeys(c *SearchCriteria) (string, error) {
	if err := d.SP(); err != nil {
		return "", err
	}
	cs, err := d.Astring()
	if err != nil {
		return "", err
	}
	if err := d.SP(); err != nil {
		return "", err
	}
	return strings.ToUpper(cs), d.searchKeys(c)
}

// ThreadCommand is a THREAD or UID THREAD (RFC 5256 §3).
type ThreadCommand struct {
	UID bool
	// Algorithm in upper case: ORDEREDSUBJECT, REFERENCES, or another
	// the dispatcher refuses.
	Algorithm string
	Charset   string
	Search    SearchCriteria
}

// ReadThread reads the arguments of THREAD or UID THREAD through the end
// of the command:
//
//	thread = "THREAD" SP thread-alg SP search-criteria
func (d *Decoder) ReadThread(uid bool) (*ThreadCommand, error) {
	c := &ThreadCommand{UID: uid}
	if err := d.SP(); err != nil {
		return nil, err
	}
	var err error
	if c.Algorithm, err = d.Keyword(); err != nil {
		return nil, err
	}
	if c.Charset, err = d.charsetAndKeys(&c.Search); err != nil {
		return nil, err
	}
	return c, d.End()
}
