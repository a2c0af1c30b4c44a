package wire

import "strings"

// ReadEnable reads the arguments of ENABLE (RFC 5161 §3.1) through the end
// of the command: 1*(SP capability), returned in upper case. Unknown
// capabilities are not an error (the server enables those it knows).
func (d *Decoder) ReadEnable() ([]string, error) {
	var caps []string
	for {
		if err := d.SP(); err != nil {
			return nil, err
		}
		c, err := d.Atom()
		if err != nil {
			return nil, err
		}
		caps = append(caps, strings.ToUpper(c))
		end, err := d.AtEnd()
		if err != nil {
			return nil, err
		}
		if end {
			return caps, d.End()
		}
	}
}

// IDField is one field-value pair of ID (RFC 2971 §3.3); HasValue is
// false for NIL.
type IDField struct {
	Field    string
	Value    string
	HasValue bool
}

// RFC 2971 §3.3's bounds on what a client sends.
const (
	idMaxFields   = 30
	idMaxFieldLen = 30
	idMaxValueLen = 1024
)

// ReadID reads the arguments of ID (RFC 2971 §3.3) through the end of the
// command: SP ("(" string SP nstring *(SP string SP nstring) ")" / NIL).
// NIL gives no fields. More than 30 pairs, a field over 30 octets or a
// value over 1,024 get BAD.
func (d *Decoder) ReadID() ([]IDField, error) {
	if err := d.SP(); err != nil {
		return nil, err
	}
	b, err := d.peek()
	if err != nil {
		return nil, err
	}
	if b != '(' {
		if err := d.ExpectKeyword("NIL"); err != nil {
			return nil, err
		}
		return nil, d.End()
	}
	var fields []IDField
	err = d.List(func() error {
		if len(fields) >= idMaxFields {
			return syntaxf("Too many ID fields")
		}
		var f IDField
		var err error
		if f.Field, err = d.String(); err != nil {
			return err
		}
		if len(f.Field) > idMaxFieldLen {
			return syntaxf("ID field name too long")
		}
		if err := d.SP(); err != nil {
			return err
		}
		if f.Value, f.HasValue, err = d.Nstring(); err != nil {
			return err
		}
		if len(f.Value) > idMaxValueLen {
			return syntaxf("ID value too long")
		}
		fields = append(fields, f)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return fields, d.End()
}
