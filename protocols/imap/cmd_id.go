package imap

// RFC 2971 §3.3: at most 30 field-value pairs, fields of at most 30
// octets, values of at most 1024.
const (
	maxIDPairs = 30
	maxIDField = 30
	maxIDValue = 1024
)

// cmdID: ID (RFC 2971): the client's identification is checked and
// dropped; the answer names the server, as Dovecot's does.
func cmdID(s *session, c *command) error {
	d := c.dec
	if err := d.SP(); err != nil {
		return err
	}
	var pairs []string
	if b, err := d.Peek(); err != nil {
		return err
	} else if b == 'N' || b == 'n' {
		if err := d.ExpectKeyword("NIL"); err != nil {
			return err
		}
	} else {
		i := 0
		err := d.List(func() error {
			v, ok, err := d.Nstring()
			if err != nil {
				return err
			}
			if !ok {
				v = "NIL"
			}
			if i%2 == 0 && len(v) > maxIDField || len(v) > maxIDValue {
				return bad("ID field or value too long (RFC 2971 §3.3)")
			}
			i++
			pairs = append(pairs, v)
			return nil
		})
		if err != nil {
			return err
		}
		if len(pairs)%2 != 0 || len(pairs) > 2*maxIDPairs {
			return bad("ID takes at most 30 field-value pairs (RFC 2971 §3.3)")
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	s.enc.Untagged().Atom("ID").SP().Open().Quoted("name").SP().Quoted("Surat").Close().CRLF()
	return s.enc.Err()
}
