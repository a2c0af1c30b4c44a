package smtp

import (
	"strings"

	gosmtp "github.com/emersion/go-smtp"
)

// Addressing at RCPT. Beyond a user or an alias, a local recipient may be
//   - user+tag@domain (RFC 5233's subaddress, Postfix's
//     recipient_delimiter "+"): it reaches user when user+tag is neither a
//     user nor an alias, and with the domain's plus folders its copy goes
//     to user's mailbox named tag when nothing else files it (sieve.go);
//   - an unknown local part of a domain with a catch-all (the domain's
//     setting, Addressing): it reaches the catch-all's user. Plus
//     addressing is tried first, as Postfix's virtual alias look-ups do;
//   - one of our SRS addresses (SRS0=HHHH=TT=domain=local@ours, or SRS1):
//     a bounce to mail we forwarded. It is verified (Config.SRS.Reverse:
//     our hash, not expired) and relayed to the original sender, on the MX
//     port too, since it is mail for us that we alone can route; a forged
//     or expired one is an unknown recipient (550 5.1.1).
//
// The address given is kept per user (pipeline.Envelope.RcptTo), so that
// Sieve's envelope test and :detail see it.

// subaddressSeparator separates a local part's user from its detail
// (RFC 5233 §1 leaves the character to the implementation; "+" is
// Postfix's and Pigeonhole's default).
const subaddressSeparator = '+'

// resolveLocal maps a local address to its user: the address itself, an
// alias, user+tag's user (with tag when the domain has plus folders) or
// the domain's catch-all. Not found: an error for which IsNotFound holds.
func (s *session) resolveLocal(addr string) (user, tag string, err error) {
	dir, isNotFound := s.srv.cfg.Directory, s.srv.cfg.IsNotFound
	user, err = dir.ResolveAddress(addr)
	if err == nil || !isNotFound(err) {
		return user, "", err
	}
	notFound := err
	at := strings.LastIndexByte(addr, '@')
	local, domain := addr[:at], addr[at+1:]
	catchAll, plusFolders, err := s.addressing(domain)
	if err != nil {
		return "", "", err
	}
	if i := strings.IndexByte(local, subaddressSeparator); i > 0 {
		user, err = dir.ResolveAddress(local[:i] + addr[at:])
		if err == nil {
			if plusFolders {
				tag = local[i+1:]
			}
			return user, tag, nil
		}
		if !isNotFound(err) {
			return "", "", err
		}
	}
	if catchAll != "" {
		user, err = dir.ResolveAddress(catchAll)
		if err == nil {
			return user, "", nil
		}
		if !isNotFound(err) {
			return "", "", err
		}
		s.log.Warn("smtp catch-all address has no mailbox", "domain", domain, "user", catchAll)
	}
	return "", "", notFound
}

// addressing reads the domain's catch-all and plus folders, when the
// Directory has them.
func (s *session) addressing(domain string) (catchAll string, plusFolders bool, err error) {
	a, ok := s.srv.cfg.Directory.(Addressing)
	if !ok {
		return "", false, nil
	}
	catchAll, plusFolders, err = a.DomainAddressing(domain)
	if err != nil && s.srv.cfg.IsNotFound(err) {
		return "", false, nil
	}
	return catchAll, plusFolders, err
}

// noteRcptTo keeps the address a local user was given as (the first).
func (s *session) noteRcptTo(user, addr, tag string) {
	if s.rcptTo == nil {
		s.rcptTo = make(map[string]string)
	}
	s.rcptTo[user] = addr
	if tag != "" {
		if s.plusTag == nil {
			s.plusTag = make(map[string]string)
		}
		s.plusTag[user] = tag
	}
}

// isSRSAddress reports whether addr's local part is an SRS address's
// (SRS0 or SRS1 and a separator, as libsrs2 writes and reads them).
func isSRSAddress(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	if at < 5 {
		return false
	}
	p := addr[:5]
	return (strings.EqualFold(p[:4], "SRS0") || strings.EqualFold(p[:4], "SRS1")) && strings.ContainsRune("=+-", rune(p[4]))
}

// srsBounce takes a RCPT to one of our SRS addresses: relayed is true
// when the original sender, a remote address, was added to the relayed
// recipients; a local original is returned for the caller to resolve.
// An address that does not verify is an unknown recipient.
func (s *session) srsBounce(addr string, opts *gosmtp.RcptOptions) (orig string, relayed bool, err error) {
	back, err := s.srv.cfg.SRS.Reverse(addr)
	if err == nil {
		back, err = canonicalAddress(back)
	}
	if err != nil {
		s.log.Info("smtp SRS address refused", "from", s.from, "rcpt", addr, "reason", err.Error())
		return "", false, s.unknownRecipient()
	}
	domain := back[strings.LastIndexByte(back, '@')+1:]
	local, err := s.srv.isLocalDomain(domain)
	if err != nil {
		s.log.Warn("smtp directory read failed", "rcpt", back, "err", err)
		return "", false, errTemporary
	}
	if local {
		return back, false, nil
	}
	if s.srv.cfg.Relay == nil {
		s.log.Info("smtp no relay for an SRS bounce", "rcpt", addr)
		return "", false, errNoRelay
	}
	if !contains(s.nonLocal, back) {
		if err := s.checkSendLimits(); err != nil { // submission only
			return "", false, err
		}
		s.nonLocal = append(s.nonLocal, back)
		p := rcptParams(opts)
		p.RequireTLS = s.requireTLS
		s.params = append(s.params, p)
	}
	s.log.Info("smtp SRS bounce to be relayed to the original sender", "from", s.from, "rcpt", back)
	s.noteRcpt(addr)
	return back, true, nil
}

// tagAsGiven is tag (from the canonical, lower-case address) as the
// client spelled it in to: a mailbox name is case-sensitive (RFC 9051
// §5.1), and user+Archive is meant for Archive.
func tagAsGiven(to, tag string) string {
	if tag == "" {
		return ""
	}
	local := to[:max(strings.LastIndexByte(to, '@'), 0)]
	if i := strings.IndexByte(local, subaddressSeparator); i >= 0 && strings.EqualFold(local[i+1:], tag) {
		return local[i+1:]
	}
	return tag
}
