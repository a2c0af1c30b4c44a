package wire

import "strings"

// QuotaResource is one resource limit of SETQUOTA (RFC 9208 §4.3):
// Name in upper case (STORAGE, MESSAGE, MAILBOX, ANNOTATION-STORAGE, or
// another the dispatcher refuses), Limit in the resource's units
// (STORAGE in KiB, §5.1).
type QuotaResource struct {
	Name  string
	Limit uint64
}

// ReadQuotaRoot reads SP quota-root (an astring) through the end of the
// command: the argument of GETQUOTA (RFC 9208 §4.2).
func (d *Decoder) ReadQuotaRoot() (string, error) {
	if err := d.SP(); err != nil {
		return "", err
	}
	root, err := d.Astring()
	if err != nil {
		return "", err
	}
	return root, d.End()
}

// ReadMailboxArg reads SP mailbox through the end of the command: the
// argument of GETQUOTAROOT (RFC 9208 §4.3), GETACL and MYRIGHTS (RFC 4314
// §3.3, §3.5), and of DELETE, SUBSCRIBE, UNSUBSCRIBE (RFC 9051).
func (d *Decoder) ReadMailboxArg() (string, error) {
	if err := d.SP(); err != nil {
		return "", err
	}
	m, err := d.Mailbox()
	if err != nil {
		return "", err
	}
	return m, d.End()
}

// ReadSetQuota reads the arguments of SETQUOTA (RFC 9208 §4.3) through the
// end of the command:
//
//	setquota = "SETQUOTA" SP quota-root-name SP setquota-list
//	setquota-list = "(" [setquota-resource *(SP setquota-resource)] ")"
//	setquota-resource = resource-name SP resource-limit
func (d *Decoder) ReadSetQuota() (root string, res []QuotaResource, err error) {
	if err := d.SP(); err != nil {
		return "", nil, err
	}
	if root, err = d.Astring(); err != nil {
		return "", nil, err
	}
	if err := d.SP(); err != nil {
		return "", nil, err
	}
	err = d.List(func() error {
		name, err := d.Atom()
		if err != nil {
			return err
		}
		if err := d.SP(); err != nil {
			return err
		}
		n, err := d.Number64()
		res = append(res, QuotaResource{Name: strings.ToUpper(name), Limit: n})
		return err
	})
	if err != nil {
		return "", nil, err
	}
	return root, res, d.End()
}
