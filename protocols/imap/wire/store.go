package wire

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// StoreCommand is a STORE or UID STORE (RFC 9051 §6.4.6).
type StoreCommand struct {
	UID    bool
	NumSet imap.NumSet // "$" is imap.SearchRes()
	Flags  imap.StoreFlags
	// UnchangedSince is the UNCHANGEDSINCE modifier (RFC 7162 §3.1.3);
	// it may be 0, so HasUnchangedSince tells whether it was given.
	UnchangedSince    uint64
	HasUnchangedSince bool
}

// ReadStore reads the arguments of STORE or UID STORE through the end of
// the command:
//
//	store = "STORE" SP sequence-set [store-modifiers] SP store-att-flags
//	store-modifiers = SP "(" store-modifier *(SP store-modifier) ")"
//	store-modifier = "UNCHANGEDSINCE" SP mod-sequence-valzer
//	store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP
//	                  (flag-list / (flag *(SP flag)))
func (d *Decoder) ReadStore(uid bool) (*StoreCommand, error) {
	c := &StoreCommand{UID: uid}
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
	if b, err := d.peek(); err != nil {
		return nil, err
	} else if b == '(' {
		n := 0
		err := d.List(func() error {
			n++
			if err := d.ExpectKeyword("UNCHANGEDSINCE"); err != nil {
				return err
			}
			if err := d.SP(); err != nil {
				return err
			}
			v, err := d.Number64()
			c.UnchangedSince, c.HasUnchangedSince = v, true
			return err
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, syntaxf("Empty STORE modifier list")
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	item, err := d.readWhile(func(b byte) bool { return isAtomChar(b) })
	if err != nil {
		return nil, err
	}
	item = strings.ToUpper(item)
	switch {
	case strings.HasPrefix(item, "+"):
		c.Flags.Op, item = imap.StoreFlagsAdd, item[1:]
	case strings.HasPrefix(item, "-"):
		c.Flags.Op, item = imap.StoreFlagsDel, item[1:]
	default:
		c.Flags.Op = imap.StoreFlagsSet
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		c.Flags.Silent = true
	default:
		return nil, syntaxf("Unknown STORE item %q", item)
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b == '(' {
		if c.Flags.Flags, err = d.FlagList(); err != nil {
			return nil, err
		}
	} else {
		for {
			f, err := d.Flag()
			if err != nil {
				return nil, err
			}
			c.Flags.Flags = append(c.Flags.Flags, f)
			if ok, err := d.Maybe(' '); err != nil {
				return nil, err
			} else if !ok {
				break
			}
		}
	}
	return c, d.End()
}
