package imap

// cmdID: ID (RFC 2971): the client's identification is read and dropped;
// the answer names the server. RFC 2971 §3.3's bounds (30 pairs, 30-octet
// fields, 1024-octet values) bind clients; like Dovecot, longer ones are
// accepted (the command's own limits bound them).
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
		err := d.List(func() error {
			v, ok, err := d.Nstring()
			if err != nil {
				return err
			}
			if !ok {
				v = "NIL"
			}
			pairs = append(pairs, v)
			return nil
		})
		if err != nil {
			return err
		}
		if len(pairs)%2 != 0 {
			return bad("ID takes field-value pairs")
		}
	}
	if err := d.End(); err != nil {
		return err
	}
	s.enc.Untagged().Atom("ID").SP().Open().Quoted("name").SP().Quoted("Surat").Close().CRLF()
	return s.enc.Err()
}
