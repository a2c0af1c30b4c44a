package imap

import (
	"strings"

	"github.com/emersion/go-imap/v2"
)

// cmdStore: STORE and UID STORE (RFC 9051 §6.4.6): FLAGS, +FLAGS or
// -FLAGS, with .SILENT, and a parenthesised list or a space-separated
// flags.
func cmdStore(s *session, c *command) error {
	d := c.dec
	if err := d.SP(); err != nil {
		return err
	}
	set, err := d.NumSet(c.uid)
	if err != nil {
		return err
	}
	if err := d.SP(); err != nil {
		return err
	}
	var flags imap.StoreFlags
	switch b, err := d.Peek(); {
	case err != nil:
		return err
	case b == '+':
		flags.Op = imap.StoreFlagsAdd
		_, _ = d.Maybe('+')
	case b == '-':
		flags.Op = imap.StoreFlagsDel
		_, _ = d.Maybe('-')
	default:
		flags.Op = imap.StoreFlagsSet
	}
	item, err := d.Keyword()
	if err != nil {
		return err
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		flags.Silent = true
	default:
		return bad("Unknown STORE item " + strings.ToUpper(item))
	}
	if err := d.SP(); err != nil {
		return err
	}
	if b, err := d.Peek(); err != nil {
		return err
	} else if b == '(' {
		if flags.Flags, err = d.FlagList(); err != nil {
			return err
		}
	} else {
		for {
			f, err := d.Flag()
			if err != nil {
				return err
			}
			flags.Flags = append(flags.Flags, f)
			if ok, err := d.Maybe(' '); err != nil {
				return err
			} else if !ok {
				break
			}
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	return s.Store(&fetchWriter{s: s}, set, &flags, nil)
}
