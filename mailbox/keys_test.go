package mailbox

import (
	"go/parser"
	"go/token"
	"regexp"
	"slices"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

// documentedPrefixes reads the key table from the package doc: every line
// of the "Key layout" section that starts with a quoted four-byte prefix.
func documentedPrefixes(t *testing.T) map[string]bool {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), "doc.go", nil, parser.ParseComments|parser.PackageClauseOnly)
	if err != nil {
		t.Fatal(err)
	}
	doc := f.Doc.Text()
	section := regexp.MustCompile(`(?s)# Key layout\n(.*?)\n# `).FindStringSubmatch(doc)
	if section == nil {
		t.Fatal("package doc has no Key layout section")
	}
	out := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\s+"([^"]{4})"`).FindAllStringSubmatch(section[1], -1) {
		out[m[1]] = true
	}
	if len(out) == 0 {
		t.Fatal("no prefixes found in the Key layout section")
	}
	return out
}

// TestKeyLayout fails if the store holds a key under a prefix the package
// doc does not list, or if the code and the doc disagree on the prefixes.
func TestKeyLayout(t *testing.T) {
	documented := documentedPrefixes(t)
	code := []string{prefixApplied, prefixCounter, prefixDomain, prefixDkimKey, prefixUser, prefixAlias, prefixAliasByTarget,
		prefixMailboxByName, prefixMailbox, prefixMessage, prefixExpungeHistory, prefixSubscription, prefixBlob, prefixChunk,
		prefixUpload, prefixStaged, prefixQueue, prefixQueueDue, prefixBan, prefixBanExpiry,
		prefixSentBucket, prefixQueuedBytes, prefixProposalKey, prefixProposalByIndex,
		prefixDMARCDay, prefixDMARCRow, prefixTLSDay, prefixTLSRow, prefixDMARCIn,
		prefixSpamToken, prefixSpamTotals,
		prefixGreylist, prefixGreylistExpiry,
		prefixSieveScript, prefixSieveActive, prefixVacation, prefixDuplicate, prefixSieveExpiry, prefixForward, prefixSrsKey,
		prefixACL, prefixACLByIdentifier, prefixMetadataShared, prefixMetadataPrivate}
	for _, p := range code {
		if !documented[p] {
			t.Errorf("prefix %q is used in code but not documented", p)
		}
	}
	for p := range documented {
		if !slices.Contains(code, p) {
			t.Errorf("prefix %q is documented but not in code", p)
		}
	}

	s := openStore(t, t.TempDir())
	defer s.Close()
	for _, seed := range []uint64{1, 42, 1234} {
		w := newWorkload(seed, 400)
		for i := range w.entries {
			w.entries[i].index += uint64(seed) * 10000 // keep indexes increasing across workloads
		}
		w.run(t, s)
	}
	leaveSharingKeys(t, s) // property_acl_test.go
	seen := map[string]int{}
	err := s.view(func(r reader) error {
		return scanRange(r, nil, nil, func(k, v []byte) (bool, error) {
			if len(k) < prefixLen || !documented[string(k[:prefixLen])] {
				t.Errorf("undocumented key %q", k)
				return true, nil
			}
			p := string(k[:prefixLen])
			seen[p]++
			checkKeyShape(t, p, k, v)
			return true, nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	// The workload touches every kind of key.
	for p := range documented {
		if seen[p] == 0 {
			t.Errorf("no key under %q after the workload", p)
		}
	}
}

// checkKeyShape checks the fixed-width parts the doc promises.
func checkKeyShape(t *testing.T, prefix string, k, v []byte) {
	t.Helper()
	switch prefix {
	case prefixApplied:
		if len(k) != prefixLen || len(v) != appliedMarkerValueLen {
			t.Errorf("applied marker %q = %x", k, v)
		}
	case prefixCounter:
		name := string(k[prefixLen:])
		if !(name == counterMailboxID && len(v) == 8 || name == counterUIDValidity && len(v) == 4 ||
			name == counterKeysForgotten && len(v) == 8) {
			t.Errorf("counter %q = %x", k, v)
		}
	case prefixMailboxByName:
		if len(v) != mailboxIDLen {
			t.Errorf("name index %q = %x", k, v)
		}
	case prefixMailbox:
		if len(k) != prefixLen+mailboxIDLen {
			t.Errorf("mailbox key %q", k)
		}
		if err := evlog.UnmarshalRecord(v, new(evlog.MailboxRecord)); err != nil {
			t.Errorf("mailbox %q: %v", k, err)
		}
	case prefixMessage:
		if len(k) != messageKeyLen {
			t.Errorf("message key %q", k)
		}
	case prefixExpungeHistory:
		if len(k) != expungeHistoryKeyLen {
			t.Errorf("expunge history key %q", k)
		}
		if _, err := decodeUIDSpans(v); err != nil || len(v) == 0 {
			t.Errorf("expunge history %q = %x: %v", k, v, err)
		}
	case prefixBlob:
		if len(k) != prefixLen+hashLen {
			t.Errorf("blob key %q", k)
		}
	case prefixChunk:
		if len(k) != prefixLen+hashLen+4 {
			t.Errorf("chunk key %q", k)
		}
	case prefixUpload:
		if len(k) != prefixLen+uploadIDLen {
			t.Errorf("upload key %q", k)
		}
		if err := evlog.UnmarshalRecord(v, new(evlog.UploadRecord)); err != nil {
			t.Errorf("upload %q: %v", k, err)
		}
	case prefixStaged:
		if len(k) != prefixLen+uploadIDLen+4 || len(v) != evlog.ChunkSize {
			t.Errorf("staged chunk key %q (%d bytes)", k, len(v))
		}
	case prefixQueue:
		if len(k) != prefixLen+queueIDLen {
			t.Errorf("queue key %q", k)
		}
		if err := evlog.UnmarshalRecord(v, new(evlog.QueueRecord)); err != nil {
			t.Errorf("queue entry %q: %v", k, err)
		}
	case prefixQueueDue:
		if len(k) != queueDueKeyLen || len(v) != 0 {
			t.Errorf("queue due key %q = %x", k, v)
		}
	case prefixBan:
		if n := len(k) - prefixLen - 2; !(k[prefixLen] == 4 && n == 4 || k[prefixLen] == 6 && n == 16) {
			t.Errorf("ban key %x", k)
		}
		if err := evlog.UnmarshalRecord(v, new(evlog.BanRecord)); err != nil {
			t.Errorf("ban %x: %v", k, err)
		}
	case prefixBanExpiry:
		if _, err := banKeyOfExpiry(k); err != nil || len(v) != 0 {
			t.Errorf("ban expiry key %x = %x: %v", k, v, err)
		}
	case prefixDMARCDay:
		if len(k) <= prefixLen+4 || evlog.UnmarshalRecord(v, new(evlog.DmarcDayRecord)) != nil {
			t.Errorf("DMARC day %q", k)
		}
	case prefixDMARCRow, prefixTLSRow:
		if len(k) <= prefixLen+4+1+rowDigestLen || k[len(k)-rowDigestLen-1] != 0 {
			t.Errorf("report row key %q", k)
		}
	case prefixTLSDay:
		if len(k) <= prefixLen+4 || evlog.UnmarshalRecord(v, new(evlog.TLSDayRecord)) != nil {
			t.Errorf("TLS-RPT day %q", k)
		}
	case prefixDMARCIn:
		if len(k) <= prefixLen+1+8+rowDigestLen || k[len(k)-8-rowDigestLen-1] != 0 || evlog.UnmarshalRecord(v, new(evlog.DmarcReportReceived)) != nil {
			t.Errorf("received report key %q", k)
		}
	case prefixGreylist:
		if _, err := decodeGreylist(v); err != nil || len(k) != prefixLen+GreylistTripleLen {
			t.Errorf("greylist key %x = %x: %v", k, v, err)
		}
	case prefixGreylistExpiry:
		if len(k) != prefixLen+8+GreylistTripleLen || len(v) != 0 {
			t.Errorf("greylist expiry key %x = %x", k, v)
		}
	case prefixProposalKey:
		if len(k) != prefixLen+proposalKeyLen || len(v) < 8 {
			t.Errorf("proposal key %q = %x", k, v)
		} else if _, err := evlog.DecodeOutcome(v[8:]); err != nil {
			t.Errorf("proposal key %q outcome: %v", k, err)
		}
	case prefixProposalByIndex:
		if len(k) != proposalByIndexKeyLen || len(v) != 0 {
			t.Errorf("proposal index key %q = %x", k, v)
		}
	}
}
