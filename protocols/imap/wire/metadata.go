package wire

import (
	"fmt"
	"io"
	"strings"
)

// Metadata entry names (RFC 5464 §3.2): "/private/..." or "/shared/...",
// "/"-separated, printable ASCII without "*" or "%", no empty component,
// no trailing "/". Names compare case-insensitively; they are returned
// as sent.

// ValidEntryName reports whether name is a valid metadata entry name
// (RFC 5464 §3.2). "/private" and "/shared" alone are allowed: GETMETADATA
// with DEPTH reads below them.
func ValidEntryName(name string) bool {
	l := strings.ToLower(name)
	if l != "/private" && l != "/shared" && !strings.HasPrefix(l, "/private/") && !strings.HasPrefix(l, "/shared/") {
		return false
	}
	if strings.HasSuffix(name, "/") || strings.Contains(name, "//") {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= 0x20 || c >= 0x7f || c == '*' || c == '%' {
			return false
		}
	}
	return true
}

// GetMetadataCommand is a GETMETADATA (RFC 5464 §4.2). Mailbox "" is the
// server's entries.
type GetMetadataCommand struct {
	Mailbox string
	Entries []string
	// MaxSize is the MAXSIZE option, -1 if not given (§4.2.1).
	MaxSize int64
	// Depth is the DEPTH option: 0 (the default), 1, or -1 for infinity
	// (§4.2.2).
	Depth int
}

// ReadGetMetadata reads the arguments of GETMETADATA through the end of
// the command:
//
//	getmetadata = "GETMETADATA" [SP getmetadata-options] SP mailbox SP entries
//	getmetadata-options = "(" getmetadata-option *(SP getmetadata-option) ")"
//	getmetadata-option = "MAXSIZE" SP number / "DEPTH" SP ("0" / "1" / "infinity")
//	entries = entry / "(" entry *(SP entry) ")"
func (d *Decoder) ReadGetMetadata() (*GetMetadataCommand, error) {
	c := &GetMetadataCommand{MaxSize: -1}
	if err := d.SP(); err != nil {
		return nil, err
	}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b == '(' {
		n := 0
		err := d.List(func() error {
			n++
			kw, err := d.Keyword()
			if err != nil {
				return err
			}
			if err := d.SP(); err != nil {
				return err
			}
			switch kw {
			case "MAXSIZE":
				v, err := d.Number()
				c.MaxSize = int64(v)
				return err
			case "DEPTH":
				v, err := d.Keyword()
				if err != nil {
					return err
				}
				switch v {
				case "0":
					c.Depth = 0
				case "1":
					c.Depth = 1
				case "INFINITY":
					c.Depth = -1
				default:
					return syntaxf("Invalid DEPTH %s", v)
				}
				return nil
			}
			return syntaxf("Unknown GETMETADATA option %s", kw)
		})
		if err != nil {
			return nil, err
		}
		if n == 0 {
			return nil, syntaxf("Empty GETMETADATA options")
		}
		if err := d.SP(); err != nil {
			return nil, err
		}
	}
	if c.Mailbox, err = d.Mailbox(); err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	entry := func() error {
		e, err := d.Astring()
		if err != nil {
			return err
		}
		if !ValidEntryName(e) {
			return syntaxf("Invalid entry name %q", e)
		}
		c.Entries = append(c.Entries, e)
		return nil
	}
	if _, err := d.oneOrList("Empty entry list", entry); err != nil {
		return nil, err
	}
	return c, d.End()
}

// MetadataEntry is one entry of SETMETADATA; HasValue false is NIL
// (remove the entry).
type MetadataEntry struct {
	Name     string
	Value    []byte
	HasValue bool
}

// SetMetadataCommand is a SETMETADATA (RFC 5464 §4.3).
type SetMetadataCommand struct {
	Mailbox string
	Entries []MetadataEntry
}

// ReadSetMetadata reads the arguments of SETMETADATA through the end of
// the command:
//
//	setmetadata = "SETMETADATA" SP mailbox SP "(" entry-value *(SP entry-value) ")"
//	entry-value = entry SP value
//	value = nstring / literal8
//
// A literal value over maxSize octets is refused before its continuation
// with NO [METADATA MAXSIZE maxSize] (RFC 5464 §4.3); maxSize 0 or
// negative means Limits.MaxLiteralSize, which bounds it anyway.
func (d *Decoder) ReadSetMetadata(maxSize int64) (*SetMetadataCommand, error) {
	if maxSize <= 0 || maxSize > d.limits.MaxLiteralSize {
		maxSize = d.limits.MaxLiteralSize
	}
	c := &SetMetadataCommand{}
	if err := d.SP(); err != nil {
		return nil, err
	}
	var err error
	if c.Mailbox, err = d.Mailbox(); err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	err = d.List(func() error {
		var e MetadataEntry
		var err error
		if e.Name, err = d.Astring(); err != nil {
			return err
		}
		if !ValidEntryName(e.Name) || !strings.Contains(e.Name[1:], "/") {
			return syntaxf("Invalid entry name %q", e.Name)
		}
		if err := d.SP(); err != nil {
			return err
		}
		b, err := d.peek()
		if err != nil {
			return err
		}
		switch b {
		case '{', '~':
			l, err := d.LiteralHeader()
			if err != nil {
				return err
			}
			if l.Size > maxSize || d.size+l.Size > d.limits.MaxCommandSize {
				return &SyntaxError{No: true, Code: fmt.Sprintf("METADATA MAXSIZE %d", maxSize), Text: "Metadata value too large"}
			}
			r, err := d.AcceptLiteral()
			if err != nil {
				return err
			}
			e.Value = make([]byte, l.Size)
			if _, err := io.ReadFull(r, e.Value); err != nil {
				return err
			}
			d.size += l.Size
			e.HasValue = true
		default:
			var s string
			s, e.HasValue, err = d.Nstring()
			if err != nil {
				return err
			}
			if e.HasValue {
				e.Value = []byte(s)
			}
		}
		c.Entries = append(c.Entries, e)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(c.Entries) == 0 {
		return nil, syntaxf("Empty SETMETADATA list")
	}
	return c, d.End()
}
