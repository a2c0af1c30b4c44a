package mailbox

import (
	"fmt"
	"slices"
	"strings"
)

// MetadataEntry is one annotation (RFC 5464): its entry name, canonical
// (CanonicalMetadataEntry), and value.
type MetadataEntry struct {
	Name  string
	Value []byte
}

// MetadataDepth is GETMETADATA's DEPTH option (RFC 5464 §4.2.2).
type MetadataDepth int

const (
	DepthZero     MetadataDepth = 0  // the entries named
	DepthOne      MetadataDepth = 1  // and their children
	DepthInfinity MetadataDepth = -1 // and every entry below them
)

// Metadata returns the annotations of a mailbox (mailboxID 0: the
// server's) that user sees among the names asked (RFC 5464 §4.2):
// /shared/ entries are the mailbox's, /private/ ones user's own; with
// depth, the entries below each name too. Names are checked with
// CanonicalMetadataEntry (an invalid one is an error: the dispatcher
// answers BAD before calling), "/private" and "/shared" alone naming the
// entries below them (with a depth); entries that do not exist are left out
// (the dispatcher answers nothing for them, as RFC 5464 §4.2 allows).
// The result is sorted by name, each entry once. Whether user may read
// the mailbox's annotations (RFC 5464 §3.3: the l and r rights, RFC 4314)
// is the caller's to check. Reads only.
func (s *Store) Metadata(user string, mailboxID uint64, names []string, depth MetadataDepth) ([]MetadataEntry, error) {
	var out []MetadataEntry
	err := s.view(func(r reader) error {
		for _, n := range names {
			entry, err := CanonicalMetadataEntry(n)
			if root := strings.ToLower(n); err != nil && (root+"/" == metadataPrivate || root+"/" == metadataShared) {
				// "/private" or "/shared" alone: what is below it, with
				// depth (RFC 5464 §4.2.2); nothing is stored at it.
				entry, err = root, nil
			}
			if err != nil {
				return err
			}
			if strings.HasPrefix(entry+"/", metadataPrivate) && user == "" {
				continue
			}
			scope := metadataScope(user, mailboxID, entry+"/")
			key := append(scope, entry...)
			if v, ok, err := readValue(r, key); err != nil {
				return err
			} else if ok {
				out = append(out, MetadataEntry{Name: entry, Value: v})
			}
			if depth == DepthZero {
				continue
			}
			below := append(key, '/')
			err = scanRange(r, below, prefixEnd(below), func(k, v []byte) (bool, error) {
				name := string(k[len(scope):])
				if depth == DepthOne && strings.Contains(name[len(below)-len(scope):], "/") {
					return true, nil
				}
				out = append(out, MetadataEntry{Name: name, Value: slices.Clone(v)})
				return true, nil
			})
			if err != nil {
				return fmt.Errorf("mailbox: metadata below %s: %w", entry, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, func(a, b MetadataEntry) int { return strings.Compare(a.Name, b.Name) })
	return slices.CompactFunc(out, func(a, b MetadataEntry) bool { return a.Name == b.Name }), nil
}
