package imap

import (
	"errors"

	"github.com/emersion/go-imap/v2"

	"github.com/surat-mail/surat/mailbox"
)

// quotaRoot is the name of a user's one quota root (RFC 9208 §3.2), which
// covers all of the user's mailboxes: Dovecot's name for it ("User quota"),
// so that clients see the same answers from both.
const quotaRoot = "User quota"

// quotaResource is one resource of a QUOTA response (RFC 9208 §5): its
// name, usage and limit in the resource's units.
type quotaResource struct {
	name         string
	usage, limit uint64
}

// quotaResources lists the limited resources of the session's user, from
// the per-user quota set with `surat user quota` and enforced by apply
// (mailbox.OverQuota): STORAGE in units of 1024 octets (RFC 9208 §5.1),
// rounded up as Dovecot does, and MESSAGE, the number of messages in all
// the user's mailboxes (§5.2). A user without a quota has none, and an
// unlimited resource is not listed (RFC 9208 §4.1 lists resources with
// their limits; Dovecot leaves unlimited ones out).
func (s *session) quotaResources() ([]quotaResource, error) {
	u, err := s.srv.cfg.Store.User(s.user)
	if errors.Is(err, mailbox.ErrNotFound) {
		return nil, nil // deleted meanwhile: revocation ends the session
	}
	if err != nil {
		return nil, replyFor(err)
	}
	var res []quotaResource
	if q := u.GetQuotaBytes(); q > 0 {
		res = append(res, quotaResource{name: "STORAGE", usage: kib(u.GetUsedBytes()), limit: kib(q)})
	}
	if q := u.GetQuotaMessages(); q > 0 {
		res = append(res, quotaResource{name: "MESSAGE", usage: u.GetUsedMessages(), limit: q})
	}
	return res, nil
}

// kib is n octets in units of 1024 octets, rounded up (RFC 9208 §5.1).
func kib(n uint64) uint64 { return n/1024 + min(n%1024, 1) }

// writeQuota writes "* QUOTA root (name usage limit ...)" (RFC 9208 §5.1
// response, §7 quota_response).
func (s *session) writeQuota(res []quotaResource) {
	s.enc.Untagged().Atom("QUOTA").SP().AString(quotaRoot).SP()
	s.enc.List(len(res), func(i int) {
		s.enc.Atom(res[i].name).SP().Number64(res[i].usage).SP().Number64(res[i].limit)
	})
	s.enc.CRLF()
}

// cmdGetQuota: GETQUOTA quota-root (RFC 9208 §4.2). The user's own root
// is the only one; as Dovecot does, it is answered without a QUOTA
// response when nothing is limited, and another name is NO.
func cmdGetQuota(s *session, c *command) error {
	root, err := c.dec.ReadQuotaRoot()
	if err != nil {
		return err
	}
	if root != quotaRoot {
		return no(imap.ResponseCodeNonExistent, "Quota root doesn't exist")
	}
	res, err := s.quotaResources()
	if err != nil {
		return err
	}
	if len(res) > 0 {
		s.writeQuota(res)
	}
	return s.enc.Err()
}

// cmdGetQuotaRoot: GETQUOTAROOT mailbox (RFC 9208 §4.3): the user's root
// and its QUOTA response. Every name of the user's has that root, whether
// or not the mailbox exists (as Dovecot answers). A user without a quota
// gets no QUOTAROOT at all and "OK No quota", as from Dovecot for a root
// with no limits.
func cmdGetQuotaRoot(s *session, c *command) error {
	name, err := c.dec.ReadMailboxArg()
	if err != nil {
		return err
	}
	res, err := s.quotaResources()
	if err != nil {
		return err
	}
	if len(res) == 0 {
		c.text = "No quota"
		return nil
	}
	s.enc.Untagged().Atom("QUOTAROOT").SP().Mailbox(name).SP().AString(quotaRoot).CRLF()
	s.writeQuota(res)
	return s.enc.Err()
}

// cmdSetQuota: SETQUOTA (RFC 9208 §4.1): read, then refused. Quotas are
// the operator's (`surat user quota`), as Dovecot refuses them to users.
func cmdSetQuota(s *session, c *command) error {
	if _, _, err := c.dec.ReadSetQuota(); err != nil {
		return err
	}
	return no(imap.ResponseCodeNoPerm, "Quota can be changed only by the administrator")
}
