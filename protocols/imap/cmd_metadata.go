package imap

import (
	"bytes"
	"slices"
	"strconv"
	"strings"

	"github.com/emersion/go-imap/v2"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/mailbox"
	"github.com/surat-mail/surat/protocols/imap/acl"
)

// Annotations (RFC 5464 METADATA and METADATA-SERVER), replicated state
// (MetadataSet, mailbox/apply_metadata.go): a mailbox's /shared/ entries
// belong to it, /private/ ones to each user on it; mailbox "" names the
// server's. Reading a mailbox's needs the l and r rights, setting one
// also w for /shared/ entries (RFC 5464 §3.3, checked here: apply does
// not). The server's /shared/ entries are the administrators' (one set
// for every user): users read them and set only /private/ ones.

// metadataMaxSizeCode is RFC 5464 §4.3's response code for a value past
// the largest the server keeps.
var metadataMaxSizeCode = imap.ResponseCode("METADATA MAXSIZE " + strconv.Itoa(mailbox.MaxMetadataValueBytes))

// errMetadataMaxSize refuses a value too large (RFC 5464 §4.3).
var errMetadataMaxSize = no(metadataMaxSizeCode, "Annotation value too large")

// metadataMailbox resolves GETMETADATA's and SETMETADATA's mailbox: 0
// for "" (the server), else a mailbox the user holds want on.
func (s *session) metadataMailbox(name string, want acl.Rights) (uint64, error) {
	if name == "" {
		return 0, nil
	}
	b, err := s.lookup(name)
	if err != nil {
		return 0, err
	}
	if err := b.need(want); err != nil {
		return 0, err
	}
	return b.rec.GetId(), nil
}

// cmdGetMetadata: GETMETADATA [(MAXSIZE n DEPTH d)] mailbox entries (RFC
// 5464 §4.2): one METADATA response with the entries found; an entry
// named but not set is NIL, as Dovecot answers; with MAXSIZE, values
// longer are left out and the OK says the longest (LONGENTRIES, §4.2.1).
func cmdGetMetadata(s *session, c *command) error {
	gc, err := c.dec.ReadGetMetadata()
	if err != nil {
		return err
	}
	names := make([]string, len(gc.Entries))
	for i, n := range gc.Entries {
		if names[i], err = mailbox.CanonicalMetadataEntry(n); err != nil {
			l := strings.ToLower(n)
			if l != "/private" && l != "/shared" {
				return bad("Invalid entry name " + n)
			}
			names[i] = l // the entries below it (mailbox.Store.Metadata)
		}
	}
	id, err := s.metadataMailbox(gc.Mailbox, acl.Lookup|acl.Read)
	if err != nil {
		return err
	}
	depth := mailbox.DepthZero
	switch gc.Depth {
	case 1:
		depth = mailbox.DepthOne
	case -1:
		depth = mailbox.DepthInfinity
	}
	entries, err := s.srv.cfg.Store.Metadata(s.user, id, names, depth)
	if err != nil {
		return replyFor(err)
	}
	type item struct {
		name  string
		value []byte
		set   bool
	}
	var items []item
	longest := 0
	for _, x := range entries {
		if gc.MaxSize >= 0 && int64(len(x.Value)) > gc.MaxSize {
			longest = max(longest, len(x.Value))
			continue
		}
		items = append(items, item{x.Name, x.Value, true})
	}
	for _, n := range names {
		if n == "/private" || n == "/shared" {
			continue
		}
		found := slices.ContainsFunc(entries, func(x mailbox.MetadataEntry) bool { return x.Name == n })
		if !found && !slices.ContainsFunc(items, func(x item) bool { return x.name == n }) {
			items = append(items, item{name: n})
		}
	}
	slices.SortFunc(items, func(a, b item) int { return strings.Compare(a.name, b.name) })
	if len(items) > 0 {
		e := s.enc.Untagged().Atom("METADATA").SP().Mailbox(gc.Mailbox).SP().Open()
		for i, x := range items {
			if i > 0 {
				e.SP()
			}
			e.AString(x.name).SP()
			switch {
			case !x.set:
				e.NIL()
			case bytes.IndexByte(x.value, 0) >= 0:
				e.Literal8(x.value) // RFC 5464 §5: value = nstring / literal8
			default:
				e.String(string(x.value))
			}
		}
		if err := e.Close().CRLF().Err(); err != nil {
			return err
		}
	}
	if longest > 0 {
		c.code = "METADATA LONGENTRIES " + strconv.Itoa(longest) // RFC 5464 §4.2.1
	}
	return nil
}

// cmdSetMetadata: SETMETADATA mailbox (entry value ...) (RFC 5464 §4.3):
// one MetadataSet per entry, all in one proposal, so that either all are
// set or, refused, none (§4.3).
func cmdSetMetadata(s *session, c *command) error {
	sc, err := c.dec.ReadSetMetadata(mailbox.MaxMetadataValueBytes)
	if err != nil {
		return err
	}
	want, sharedEntry := acl.Lookup|acl.Read, false
	events := make([]*evlog.Event, 0, len(sc.Entries))
	for _, x := range sc.Entries {
		name, err := mailbox.CanonicalMetadataEntry(x.Name)
		if err != nil {
			return bad("Invalid entry name " + x.Name)
		}
		if len(x.Value) > mailbox.MaxMetadataValueBytes {
			return errMetadataMaxSize
		}
		if strings.HasPrefix(name, "/shared/") {
			want |= acl.Write // RFC 5464 §3.3
			sharedEntry = true
		}
		set := &evlog.MetadataSet{User: s.user, Entry: name}
		if x.HasValue {
			set.Value = x.Value
			if set.Value == nil {
				set.Value = []byte{} // an empty value, not NIL
			}
		}
		events = append(events, &evlog.Event{Kind: &evlog.Event_MetadataSet{MetadataSet: set}})
	}
	if sc.Mailbox == "" && sharedEntry {
		return no(imap.ResponseCodeNoPerm, "The server's shared annotations are set by its administrators")
	}
	id, err := s.metadataMailbox(sc.Mailbox, want)
	if err != nil {
		return err
	}
	for _, e := range events {
		e.GetMetadataSet().MailboxId = id
	}
	if _, err := s.propose(events...); err != nil {
		s.log.Info("imap setmetadata failed", "mailbox", sc.Mailbox, "err", err)
		return replyFor(err)
	}
	return nil
}
