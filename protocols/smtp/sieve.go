package smtp

import (
	"bytes"
	"log/slog"
	"maps"
	"slices"
	"strings"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/imap/acl"
	"github.com/surat-mail/surat/protocols/pipeline"
)

// What the checks decided per recipient beyond header fields and Junk (a
// Sieve script's result, RFC 5228 §4, or a user's forwarding), delivered:
//   - Filings: one copy per filing in the one Delivered of the recipient's
//     group, each a Recipient with its mailbox, :create (RFC 5490 §3.2)
//     and flags (RFC 5232); apply files a missing mailbox's copy in INBOX.
//   - Discard: no local copy. A message that no recipient keeps, with
//     nothing to relay or redirect, is still 250 (the discard is the
//     delivery): nothing is stored, the checks' events are proposed alone.
//   - Redirects: one queued copy per recipient, through Config.Relay,
//     with "Delivered-To: user" on top (as Postfix's local delivery adds;
//     RFC 9228) and the envelope sender rewritten by Config.SRS, so that
//     SPF at the destination passes (a local sender is not rewritten: its
//     own domain's SPF covers us). On the MX port too: the recipient asked
//     for it. A message that already carries "Delivered-To: user", or
//     that has come through maxRedirectHops hops, is not redirected again
//     (a forwarding loop): it is kept in INBOX instead and the line says
//     so; so is one that no Relay or no room in the proposal can take.
//   - Header: the recipient's copies and redirects carry it in place of
//     the message's header block (copies.go).
//   - Plus folders: a copy to user+tag of a domain with plus folders that
//     would go to INBOX (no filing, or a keep) goes to the mailbox tag
//     (INBOX when there is none); Junk stays Junk.

// Defaults of Config's mailbox limits for fileinto :create, as IMAP's
// (protocols/imap: DefaultMaxMailboxes, DefaultMaxMailboxDepth).
const (
	defaultMaxMailboxes    = 1000
	defaultMaxMailboxDepth = 16
)

// maxRedirectHops: a message with this many Received fields is not
// forwarded again (RFC 5321 §6.3 loop detection; Postfix's
// hopcount_limit is 50, and each forward adds our Received).
const maxRedirectHops = 50

// redirectCopy is one recipient's forwarded copy.
type redirectCopy struct {
	user string
	head []byte
	skip bool // head replaces the message's header block
	to   []string
}

// plan is where a message goes after the checks.
type plan struct {
	groups    []copyGroup
	redirects []redirectCopy
	squeezed  []string // recipients whose own fields were left out
	discarded []string // recipients without a local copy
}

// planDelivery applies the checks' per-recipient outcomes (and the plus
// folders) to the local recipients.
func (s *session) planDelivery(res pipeline.Result, stored *storedBody, headFor func([]byte) []byte, log *slog.Logger) plan {
	var p plan
	res.Recipients = maps.Clone(res.Recipients)
	if res.Recipients == nil {
		res.Recipients = make(map[string]pipeline.RecipientOutcome)
	}
	budget := &copyBudget{bodySize: stored.size}
	hops := new(receivedCounter).scan(stored.head)
	for _, u := range s.local {
		own := res.Recipients[u]
		if own.Header != nil && !validHeaderBlock(own.Header) {
			log.Warn("smtp a check's header block for a recipient is not valid; the message's own is kept", "user", u, "size", len(own.Header))
			own.Header = nil
		}
		_, action := res.For(u)
		if tag := s.plusTag[u]; tag != "" && !own.Discard && action == pipeline.Deliver {
			own.Filings = plusFilings(own.Filings, tag)
		}
		if to := redirectTargets(own.Redirects); len(to) > 0 {
			reason := ""
			switch {
			case s.srv.cfg.Relay == nil:
				reason = "no outbound relay"
			case hasDeliveredTo(stored.head, u):
				reason = "loop: the message was delivered to this user before"
			case hops >= maxRedirectHops:
				reason = "loop: too many Received fields"
			}
			var head []byte
			if reason == "" {
				prepend, _ := res.For(u)
				head = append([]byte("Delivered-To: "+cleanPath(u)+"\r\n"), headFor(prepend)...)
				if own.Header != nil {
					head = append(head, own.Header...)
				}
				if !budget.take(head) {
					reason = "the message's copies would cost too much"
				}
			}
			if reason == "" {
				p.redirects = append(p.redirects, redirectCopy{user: u, head: head, skip: own.Header != nil, to: to})
			} else {
				log.Warn("smtp redirect not made; the message is kept in INBOX", "user", u, "rcpt", to, "reason", reason)
				own = keepInstead(own)
			}
		}
		res.Recipients[u] = own
	}
	p.groups, p.squeezed = groupCopiesWithin(res, s.local, headFor, budget)
	for _, u := range s.local {
		if own := res.Recipients[u]; own.Discard || (own.Filings != nil && len(own.Filings) == 0) {
			p.discarded = append(p.discarded, u)
		}
	}
	return p
}

// plusFilings files the copies that go where they would go anyway (no
// filing, or Sieve's keep: Filing.Mailbox empty) into the mailbox tag, as
// Dovecot's lmtp_save_to_detail_mailbox does.
func plusFilings(filings []pipeline.Filing, tag string) []pipeline.Filing {
	if filings == nil {
		return []pipeline.Filing{{Mailbox: tag}}
	}
	out := slices.Clone(filings)
	for i := range out {
		if out[i].Mailbox == "" {
			out[i].Mailbox = tag
		}
	}
	return out
}

// keepInstead makes sure a recipient whose redirect was not made keeps a
// copy (RFC 5228 §2.10.6: an action that fails must not lose the message).
func keepInstead(own pipeline.RecipientOutcome) pipeline.RecipientOutcome {
	if own.Discard || (own.Filings != nil && len(own.Filings) == 0) {
		own.Discard = false
		own.Filings = []pipeline.Filing{{}}
	}
	return own
}

// redirectTargets are the addresses to redirect to, canonical and once
// each; one that is not an address is left out.
func redirectTargets(addrs []string) []string {
	var out []string
	for _, a := range addrs {
		c, err := canonicalAddress(a)
		if err == nil && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}

// validHeaderBlock reports whether h can replace a header block: lines
// ending in CRLF, no bare CR or LF (RFC 5321 §2.3.8), ending in the empty
// line.
func validHeaderBlock(h []byte) bool {
	var l lineEndings
	return l.ok(h) && l.end() && (bytes.Equal(h, []byte("\r\n")) || bytes.HasSuffix(h, []byte("\r\n\r\n")))
}

// hasDeliveredTo reports whether the header block at the start of msg has
// a Delivered-To field naming user (case-insensitively, with or without
// angle brackets).
func hasDeliveredTo(msg []byte, user string) bool {
	const name = "delivered-to:"
	for line := range headerLines(msg) {
		if len(line) > len(name) && strings.EqualFold(string(line[:len(name)]), name) {
			v := strings.Trim(strings.TrimSpace(string(line[len(name):])), "<>")
			if strings.EqualFold(v, user) {
				return true
			}
		}
	}
	return false
}

// forwardSender is the envelope sender of the message's redirects: SRS
// (Config.SRS) unless there is none, the sender is null or local. An
// error means the sender cannot be rewritten (or the directory could not
// be read): the caller keeps the sender.
func (s *session) forwardSender() (string, error) {
	if s.from == "" || s.srv.cfg.SRS == nil {
		return s.from, nil
	}
	at := strings.LastIndexByte(s.from, '@')
	if at < 0 {
		return s.from, nil
	}
	local, err := s.srv.isLocalDomain(strings.ToLower(s.from[at+1:]))
	if err != nil || local {
		return s.from, err
	}
	return s.srv.cfg.SRS.Forward(s.from)
}

// recipientsOf is a group's Delivered recipients: one per filing. A
// filing into another user's mailbox ("Other Users/alice@example.com/Team",
// the "Other Users" namespace IMAP shows), or into a public folder
// ("Shared/Announcements" when the recipient's domain has public folders:
// publicAccount, Server.publicAccount) names its owner in shared_owner:
// apply files it there when the recipient holds the p right, else into
// the recipient's INBOX, and never creates it.
func recipientsOf(g copyGroup, publicAccount func(domain string) string) []*evlog.Recipient {
	var out []*evlog.Recipient
	for i, u := range g.local {
		for _, f := range filingsOf(g, i) {
			r := &evlog.Recipient{Address: u, Mailbox: f.Mailbox, Create: f.Create && f.Mailbox != "", Flags: f.Flags}
			_, domain, _ := strings.Cut(u, "@")
			var pub string
			if acl.IsPublic(f.Mailbox) {
				// The account's own "Shared/..." is a personal name, as in IMAP.
				if pub = publicAccount(domain); pub == u {
					pub = ""
				}
			}
			if owner, name, ok := acl.SplitNamespaced(f.Mailbox, domain, pub); ok {
				r.SharedOwner, r.Mailbox, r.Create = owner, name, false
			}
			if g.junk && f.Mailbox == "" {
				r.SpecialUse = `\Junk` // RFC 6154
			}
			out = append(out, r)
		}
	}
	return out
}

// filingsOf is where the group's i-th user files its copies.
func filingsOf(g copyGroup, i int) []pipeline.Filing {
	if i < len(g.filings) && g.filings[i] != nil {
		return g.filings[i]
	}
	return []pipeline.Filing{{}}
}

// filedCopies pairs a group's copies that apply did not skip, in order,
// with the UIDs it assigned them (one each, in the same order) and the
// mailboxes it filed them into (a filing to a mailbox that does not exist
// lands in INBOX; an apply from before mailboxes were reported leaves the
// name the filing asked for). Of a user's copies, the skipped ones are the
// last: the user is gone (all skipped) or over quota from one copy on
// (mailbox/doc.go).
func filedCopies(g copyGroup, skipped []*evlog.SkippedRecipient, uids []*evlog.UidRange, mailboxes []string) []filed {
	skips := map[string]int{}
	for _, r := range skipped {
		skips[r.GetAddress()]++
	}
	var out []filed
	for i, u := range g.local {
		fs := filingsOf(g, i)
		for _, f := range fs[:max(len(fs)-skips[u], 0)] {
			c := filed{user: u, mailbox: f.Mailbox}
			switch {
			case c.mailbox != "":
			case g.junk:
				c.mailbox = "Junk" // the \Junk mailbox, by whatever name
			default:
				c.mailbox = "INBOX" // Delivered names no mailbox: INBOX
			}
			if n := len(out); n < len(uids) {
				c.uid = uids[n].GetFirst()
			}
			if n := len(out); n < len(mailboxes) {
				c.mailbox = mailboxes[n]
			}
			out = append(out, c)
		}
	}
	return out
}

// mailboxLimits are the limits stamped into Delivered for fileinto
// :create (0: none).
func (c *Config) mailboxLimits() (count, depth uint32) {
	if c.MaxMailboxes > 0 {
		count = uint32(min(c.MaxMailboxes, 1<<31))
	}
	if c.MaxMailboxDepth > 0 {
		depth = uint32(min(c.MaxMailboxDepth, 1<<31))
	}
	return count, depth
}
