package mailbox

import (
	"fmt"
	"strings"
	"testing"

	evlog "github.com/surat-mail/surat/log"
)

func metadataSet(user string, id uint64, entry string, value *string) *evlog.Event {
	e := &evlog.MetadataSet{User: user, MailboxId: id, Entry: entry}
	if value != nil {
		e.Value = []byte(*value)
	}
	return aclEv(e)
}

func str(s string) *string { return &s }

func (h *harness) metadata(user string, id uint64, depth MetadataDepth, names ...string) string {
	h.t.Helper()
	entries, err := h.s.Metadata(user, id, names, depth)
	if err != nil {
		h.t.Fatalf("Metadata: %v", err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Name+"="+string(e.Value))
	}
	return strings.Join(out, " ")
}

func TestMetadata(t *testing.T) {
	h, team := sharing(t)
	h.ok(metadataSet(alice, team, "/shared/Comment", str("team folder")))
	h.ok(metadataSet(alice, team, "/private/comment", str("alice's")))
	h.ok(metadataSet(bob, team, "/private/comment", str("bob's")))
	h.ok(metadataSet(alice, team, "/shared/vendor/surat/a", str("1")))
	h.ok(metadataSet(alice, team, "/shared/vendor/surat/a/b", str("2")))
	h.ok(metadataSet(alice, 0, "/shared/admin", str("mailto:postmaster@example.org")))
	h.ok(metadataSet("", 0, "/shared/motd", str("")))
	h.ok(metadataSet(bob, 0, "/private/vendor/x", str("bob's server entry")))

	tests := []struct {
		user  string
		id    uint64
		depth MetadataDepth
		names []string
		want  string
	}{
		{alice, team, DepthZero, []string{"/shared/comment", "/private/comment"}, "/private/comment=alice's /shared/comment=team folder"},
		{bob, team, DepthZero, []string{"/private/COMMENT", "/shared/comment"}, "/private/comment=bob's /shared/comment=team folder"},
		{carol, team, DepthZero, []string{"/private/comment", "/shared/none"}, ""},
		{alice, team, DepthOne, []string{"/shared/vendor/surat"}, "/shared/vendor/surat/a=1"},
		{alice, team, DepthInfinity, []string{"/shared/vendor"}, "/shared/vendor/surat/a=1 /shared/vendor/surat/a/b=2"},
		{alice, team, DepthInfinity, []string{"/shared/vendor", "/shared/vendor/surat/a"}, "/shared/vendor/surat/a=1 /shared/vendor/surat/a/b=2"},
		{carol, 0, DepthZero, []string{"/shared/admin", "/shared/motd", "/private/vendor/x"}, "/shared/admin=mailto:postmaster@example.org /shared/motd="},
		{bob, 0, DepthInfinity, []string{"/private/vendor"}, "/private/vendor/x=bob's server entry"},
		// "/private" and "/shared" alone: what is below them.
		{alice, team, DepthOne, []string{"/Shared"}, "/shared/comment=team folder"},
		{bob, team, DepthInfinity, []string{"/private"}, "/private/comment=bob's"},
		{alice, team, DepthZero, []string{"/shared"}, ""},
	}
	for _, tc := range tests {
		if got := h.metadata(tc.user, tc.id, tc.depth, tc.names...); got != tc.want {
			t.Errorf("Metadata(%s, %d, %d, %q) = %q, want %q", tc.user, tc.id, tc.depth, tc.names, got, tc.want)
		}
	}
	if _, err := h.s.Metadata(alice, team, []string{"/nope"}, DepthZero); err == nil {
		t.Error("an invalid name read")
	}

	// NIL deletes; deleting what is not there is no error.
	h.ok(metadataSet(alice, team, "/shared/comment", nil))
	h.ok(metadataSet(alice, team, "/shared/comment", nil))
	if got := h.metadata(alice, team, DepthZero, "/shared/comment"); got != "" {
		t.Errorf("after delete: %q", got)
	}

	h.fails(errInvalid, metadataSet(alice, team, "/shared/", str("x")))
	h.fails(errInvalid, metadataSet(alice, team, "comment", str("x")))
	h.fails(errInvalid, metadataSet("", team, "/private/comment", str("x")))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_MAILBOX, metadataSet(alice, 999, "/shared/comment", str("x")))
	h.fails(evlog.ErrorCode_ERROR_CODE_NO_SUCH_USER, metadataSet("dan@example.org", team, "/shared/comment", str("x")))
	h.fails(errMetadataMaxSize, metadataSet(alice, team, "/shared/big", str(strings.Repeat("x", MaxMetadataValueBytes+1))))
}

func TestMetadataLimits(t *testing.T) {
	h, team := sharing(t)
	for i := range MaxMetadataEntries {
		h.ok(metadataSet(alice, team, fmt.Sprintf("/shared/e%d", i), str("v")))
	}
	h.fails(errMetadataTooMany, metadataSet(alice, team, "/shared/one-more", str("v")))
	// Replacing an entry is no new entry; other scopes have their own count.
	h.ok(metadataSet(alice, team, "/shared/e0", str("w")))
	h.ok(metadataSet(alice, team, "/private/one-more", str("v")))
	// Bytes: a few large values fill a scope before its count does.
	big := strings.Repeat("x", MaxMetadataValueBytes)
	for i := range MaxMetadataBytes/MaxMetadataValueBytes - 1 {
		h.ok(metadataSet(bob, team, fmt.Sprintf("/private/big%d", i), &big))
	}
	h.fails(errMetadataTooMany, metadataSet(bob, team, "/private/last", &big))
}

func TestCanonicalMetadataEntry(t *testing.T) {
	good := map[string]string{
		"/shared/comment":         "/shared/comment",
		"/PRIVATE/Vendor/Surat/X": "/private/vendor/surat/x",
		"/shared/vendor/ü/Ä":      "/shared/vendor/ü/Ä",
		"/shared/a.b-c_d":         "/shared/a.b-c_d",
	}
	for in, want := range good {
		if got, err := CanonicalMetadataEntry(in); err != nil || got != want {
			t.Errorf("CanonicalMetadataEntry(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "/", "/shared", "/shared/", "/private//x", "/shared/x/", "/shared/a*", "/shared/a%",
		"/shared/a\x01", "/public/x", "shared/x", "/shared/\xff", "/shared/" + strings.Repeat("a", MaxMetadataEntryLen)} {
		if got, err := CanonicalMetadataEntry(bad); err == nil {
			t.Errorf("CanonicalMetadataEntry(%q) = %q, want an error", bad, got)
		}
	}
}

func FuzzCanonicalMetadataEntry(f *testing.F) {
	for _, s := range []string{"/shared/comment", "/private/a/b", "/shared//", "/SHARED/X"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := CanonicalMetadataEntry(s)
		if err != nil {
			return
		}
		again, err := CanonicalMetadataEntry(c)
		if err != nil || again != c {
			t.Fatalf("%q canonicalises to %q, then %q, %v", s, c, again, err)
		}
		if !strings.HasPrefix(c, "/private/") && !strings.HasPrefix(c, "/shared/") {
			t.Fatalf("%q canonicalises to %q", s, c)
		}
	})
}
