package mailbox

import (
	"bytes"
	"crypto/sha256"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

const (
	userA  = "a@example.org"
	userB  = "b@example.org"
	alias  = "al@example.org"
	nouser = "nobody@example.org"
	body1  = "Subject: hi\r\n\r\nhello\r\n"
)

// fixture: two users, an alias, a Work mailbox, one stored body delivered
// to a's INBOX, and a two-chunk body with only its first chunk stored.
type fixture struct {
	*harness
	inbox, work, inboxB uint64
	hash                []byte
	size                int
	partial             *evlog.BlobStored // chunk 0 of a two-chunk body
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	h := newHarness(t)
	h.ok(domainAdded("example.org"), userCreated(userA, 1000), userCreated(userB, 2000), aliasAdded(alias, userA))
	h.ok(mailboxCreated(userA, "Work", 0))
	f := &fixture{harness: h, hash: h.store(body1), size: len(body1)}
	h.ok(delivered(f.hash, f.size, rcpt(userA, "")))
	f.inbox = h.mailbox(userA, "INBOX").GetId()
	f.work = h.mailbox(userA, "Work").GetId()
	f.inboxB = h.mailbox(userB, "INBOX").GetId()
	big := bytes.Repeat([]byte("x"), evlog.ChunkSize+10)
	f.partial = evlog.Chunks(big)[0]
	h.ok(blobStored(f.partial))
	return f
}

func TestRefusals(t *testing.T) {
	const (
		invalid       = evlog.ErrorCode_ERROR_CODE_INVALID
		userExists    = evlog.ErrorCode_ERROR_CODE_USER_EXISTS
		noUser        = evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER
		mailboxExists = evlog.ErrorCode_ERROR_CODE_MAILBOX_EXISTS
		noMailbox     = evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX
		overQuota     = evlog.ErrorCode_ERROR_CODE_OVER_QUOTA
		noBlob        = evlog.ErrorCode_ERROR_CODE_NO_SUCH_BLOB
		noDomain      = evlog.ErrorCode_ERROR_CODE_NO_SUCH_DOMAIN
		aliasExists   = evlog.ErrorCode_ERROR_CODE_ALIAS_EXISTS
		noAlias       = evlog.ErrorCode_ERROR_CODE_NO_SUCH_ALIAS
		forbidden     = evlog.ErrorCode_ERROR_CODE_FORBIDDEN
	)
	wrongHash := sha256.Sum256([]byte("other"))
	tests := []struct {
		name   string
		code   evlog.ErrorCode
		events func(f *fixture) []*evlog.Event
	}{
		{"empty event", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{ev(nil)} }},
		{"address without @", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{userCreated("nobody", 1)} }},
		{"empty address", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{userCreated("", 1)} }},
		{"address with NUL", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{userCreated("x\x00@example.org", 1)} }},
		{"empty domain", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{domainAdded("")} }},
		{"mailbox name leading slash", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "/x", 0)} }},
		{"mailbox name trailing slash", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "x/", 0)} }},
		{"mailbox name empty component", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "a//b", 0)} }},
		{"mailbox name empty", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "", 0)} }},
		{"mailbox name NUL", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "a\x00b", 0)} }},
		{"rename to bad name", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxRenamed(f.work, "a/", 0)} }},
		{"unknown special use", invalid, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{ev(&evlog.MailboxCreated{Address: userA, Name: "S", SpecialUse: `\Bogus`})}
		}},
		{"unknown system flag", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{appended(f.inbox, f.hash, f.size, `\Bogus`)} }},
		{"flag not an atom", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{appended(f.inbox, f.hash, f.size, "two words")} }},
		{"flag op unspecified", invalid, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{flagsChanged(f.inbox, evlog.FlagOp_FLAG_OP_UNSPECIFIED, uidRanges(1, 1), `\Seen`)}
		}},
		{"uid 0", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{expunged(f.inbox, uidRanges(0, 1))} }},
		{"reversed range", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{expunged(f.inbox, uidRanges(5, 1))} }},
		{"no ranges", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{copied(f.inbox, nil, f.work)} }},
		{"chunk beyond chunks", invalid, func(f *fixture) []*evlog.Event {
			c := evlog.Chunks([]byte("abc"))[0]
			c.Chunk = 1
			return []*evlog.Event{blobStored(c)}
		}},
		{"chunk count disagrees with size", invalid, func(f *fixture) []*evlog.Event {
			c := evlog.Chunks([]byte("abc"))[0]
			c.Chunks = 2
			return []*evlog.Event{blobStored(c)}
		}},
		{"chunk length disagrees with size", invalid, func(f *fixture) []*evlog.Event {
			c := evlog.Chunks([]byte("abc"))[0]
			c.Size = 4
			return []*evlog.Event{blobStored(c)}
		}},
		{"body does not match hash", invalid, func(f *fixture) []*evlog.Event {
			c := evlog.Chunks([]byte("abc"))[0]
			c.Hash = wrongHash[:]
			return []*evlog.Event{blobStored(c)}
		}},
		{"short hash", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{blobsCollected([]byte{1, 2, 3})} }},
		{"size disagrees with blob", invalid, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{delivered(f.hash, f.size+1, rcpt(userA, ""))}
		}},
		{"delivery without recipients", invalid, func(f *fixture) []*evlog.Event { return []*evlog.Event{delivered(f.hash, f.size)} }},
		{"delivery to bad address", invalid, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{delivered(f.hash, f.size, rcpt("bad", ""))}
		}},
		{"a later event refuses the whole batch", invalid, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{mailboxCreated(userA, "New", 0), delivered(f.hash, f.size, rcpt(userA, "")), userCreated("bad", 1)}
		}},

		{"user exists", userExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{userCreated(userA, 1)} }},
		{"user over alias", userExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{userCreated(alias, 1)} }},
		{"user created twice in one batch", userExists, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{userCreated("c@example.org", 1), userCreated("c@example.org", 1)}
		}},

		{"password of missing user", noUser, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{ev(&evlog.PasswordChanged{Address: nouser, PasswordHash: "x"})}
		}},
		{"quota of missing user", noUser, func(f *fixture) []*evlog.Event { return []*evlog.Event{quotaSet(nouser, 1)} }},
		{"delete missing user", noUser, func(f *fixture) []*evlog.Event { return []*evlog.Event{userDeleted(nouser)} }},
		{"alias to missing user", noUser, func(f *fixture) []*evlog.Event { return []*evlog.Event{aliasAdded("x@example.org", nouser)} }},
		{"alias to alias", noUser, func(f *fixture) []*evlog.Event { return []*evlog.Event{aliasAdded("x@example.org", alias)} }},
		{"mailbox of missing user", noUser, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(nouser, "X", 0)} }},
		{"subscription of missing user", noUser, func(f *fixture) []*evlog.Event { return []*evlog.Event{subscribed(nouser, "X", true)} }},

		{"create existing mailbox", mailboxExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "Work", 0)} }},
		{"create inbox in lower case", mailboxExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxCreated(userA, "inbox", 0)} }},
		{"rename onto existing", mailboxExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxRenamed(f.work, "Sent", 0)} }},
		{"rename onto INBOX", mailboxExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxRenamed(f.work, "Inbox", 0)} }},
		{"rename onto itself", mailboxExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxRenamed(f.work, "Work", 0)} }},
		{"rename whose child collides", mailboxExists, func(f *fixture) []*evlog.Event {
			// Work/x would become Other/x, which exists; Other does not.
			return []*evlog.Event{mailboxCreated(userA, "Work/x", 0), mailboxCreated(userA, "Other/x", 0),
				mailboxDeleted(f.work + 2), mailboxRenamed(f.work, "Other", 0)}
		}},

		{"rename missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxRenamed(999, "X", 0)} }},
		{"delete missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxDeleted(999)} }},
		{"append to missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{appended(999, f.hash, f.size)} }},
		{"flags in missing mailbox", noMailbox, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{flagsChanged(999, opAdd, uidRanges(1, 1), `\Seen`)}
		}},
		{"copy from missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{copied(999, uidRanges(1, 1), f.work)} }},
		{"copy to missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{copied(f.inbox, uidRanges(1, 1), 999)} }},
		{"move to missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{moved(f.inbox, uidRanges(1, 1), 999)} }},
		{"expunge in missing mailbox", noMailbox, func(f *fixture) []*evlog.Event { return []*evlog.Event{expunged(999, uidRanges(1, 1))} }},
		{"use of a mailbox deleted earlier in the batch", noMailbox, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{mailboxDeleted(f.work), appended(f.work, f.hash, f.size)}
		}},

		{"append over quota set earlier in the batch", overQuota, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{quotaSet(userA, uint64(f.size)+1), appended(f.inbox, f.hash, f.size)}
		}},
		{"copy over quota", overQuota, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{quotaSet(userA, uint64(f.size)*3/2), copied(f.inbox, uidRanges(1, 1), f.work)}
		}},
		{"move to another user over quota", overQuota, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{quotaSet(userB, 1), moved(f.inbox, uidRanges(1, 1), f.inboxB)}
		}},

		{"deliver unknown blob", noBlob, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{delivered(wrongHash[:], f.size, rcpt(userA, ""))}
		}},
		{"deliver incomplete blob", noBlob, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{delivered(f.partial.Hash, int(f.partial.Size), rcpt(userA, ""))}
		}},
		{"append incomplete blob", noBlob, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{appended(f.inbox, f.partial.Hash, int(f.partial.Size))}
		}},
		{"deliver collected blob", noBlob, func(f *fixture) []*evlog.Event {
			return []*evlog.Event{expunged(f.inbox, uidRanges(1, 1)), blobsCollected(f.hash), delivered(f.hash, f.size, rcpt(userA, ""))}
		}},

		{"remove missing domain", noDomain, func(f *fixture) []*evlog.Event { return []*evlog.Event{domainRemoved("nope.org")} }},
		{"alias over user", aliasExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{aliasAdded(userB, userA)} }},
		{"alias twice", aliasExists, func(f *fixture) []*evlog.Event { return []*evlog.Event{aliasAdded(alias, userB)} }},
		{"remove missing alias", noAlias, func(f *fixture) []*evlog.Event { return []*evlog.Event{aliasRemoved("nope@example.org")} }},
		{"delete INBOX", forbidden, func(f *fixture) []*evlog.Event { return []*evlog.Event{mailboxDeleted(f.inbox)} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.fails(tc.code, tc.events(f)...)
			checkInvariants(t, f.s)
		})
	}
}

func TestUndecodableProposal(t *testing.T) {
	h := newHarness(t)
	for i, p := range [][]byte{nil, {}, {9, 1, 2}, {evlog.FormatV1, 0xff, 0xff, 0xff}} {
		idx := uint64(i + 1)
		out := h.s.Apply(idx, [][]byte{p})
		o := decodeOutcome(t, out[0])
		if o.GetError() != evlog.ErrorCode_ERROR_CODE_INVALID || len(o.GetResults()) != 0 {
			t.Errorf("proposal %x: outcome %v", p, o)
		}
		if got := h.s.AppliedIndex(); got != idx {
			t.Errorf("applied index %d, want %d", got, idx)
		}
	}
}
