package wire

// AclCommand holds the arguments of the ACL commands (RFC 4314 §3):
// SETACL mailbox identifier mod-rights, DELETEACL mailbox identifier,
// LISTRIGHTS mailbox identifier (GETACL and MYRIGHTS take only a
// mailbox: ReadMailboxArg). Identifier and Rights are as sent: their
// meaning ("anyone", "-fred", "+lr") is package acl's.
type AclCommand struct {
	Mailbox    string
	Identifier string
	Rights     string // SETACL only
}

// ReadSetACL reads SP mailbox SP identifier SP mod-rights through the end
// of the command (RFC 4314 §3.1).
func (d *Decoder) ReadSetACL() (*AclCommand, error) {
	c, err := d.aclArgs()
	if err != nil {
		return nil, err
	}
	if err := d.SP(); err != nil {
		return nil, err
	}
	if c.Rights, err = d.Astring(); err != nil {
		return nil, err
	}
	return c, d.End()
}

// ReadMailboxIdentifier reads SP mailbox SP identifier through the end of
// the command: DELETEACL (RFC 4314 §3.2) and LISTRIGHTS (§3.4).
func (d *Decoder) ReadMailboxIdentifier() (*AclCommand, error) {
	c, err := d.aclArgs()
	if err != nil {
		return nil, err
	}
	return c, d.End()
}

func (d *Decoder) aclArgs() (*AclCommand, error) {
	c := &AclCommand{}
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
	if c.Identifier, err = d.Astring(); err != nil {
		return nil, err
	}
	if c.Identifier == "" {
		return nil, syntaxf("Empty identifier")
	}
	return c, nil
}
