package imaptest

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// sample is imaptest's compliance output against Surat on 2026-12-02,
// shortened.
const sample = `*** Test atoms command 4/5 (line 13)
 - failed: Expected tagged reply 'ok', got 'NO [SERVERBUG] Internal server error'
 - Command (tag 5.8): list "" !#$$&'+,-.0123456789:;<=>?@^_` + "`" + `|[}%*

Error: u1@example.test[10]: Keyword used without being in FLAGS: $keyword1: * 5 FETCH (FLAGS ($keyword1 \Flagged))
*** Test listext command 32/34 (line 89)
 - failed: Unexpected untagged match:
Match: list ($!unordered) $sep $mailbox${sep}test2 (childinfo ("subscribed"))
Reply: LIST (\HasChildren) "/" "imaptest/test2" (CHILDINFO ("SUBSCRIBED"))
 - Command (tag 34.40): list (subscribed recursivematch) "" ($mailbox${sep}test2)

*** Test id initialization failed: connection refused
*** Test select command 3/9 (line 7)
 - failed: Missing 1 untagged replies (3 mismatches)
 - first unexpanded: 2 recent
 - Command: examine $mailbox

71 test groups: 10 failed, 0 skipped due to missing capabilities
base protocol: 14/457 individual commands failed
extensions: 5/87 individual commands failed
`

func TestParse(t *testing.T) {
	r, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if !r.Summary || r.Groups != 71 || r.FailedGroups != 10 || r.BaseFailed != 14 || r.BaseTotal != 457 ||
		r.ExtFailed != 5 || r.ExtTotal != 87 {
		t.Fatalf("summary %+v", r)
	}
	if got, want := r.FailedTests(), []string{"atoms", "id", "listext", "select"}; !slices.Equal(got, want) {
		t.Fatalf("failed tests %v, want %v", got, want)
	}
	f := r.Failures[0]
	if f.Group != "4/5" || f.Line != 13 || !strings.Contains(f.Reason, "SERVERBUG") || len(f.Detail) != 1 {
		t.Fatalf("first failure %+v", f)
	}
	if l := r.Failures[1]; l.Reason != "Unexpected untagged match:" || len(l.Detail) != 3 {
		t.Fatalf("listext failure %+v", l)
	}
	if len(r.Errors) != 1 || !strings.Contains(r.Errors[0], "Keyword used without being in FLAGS") {
		t.Fatalf("errors %q", r.Errors)
	}
}

func TestParseStress(t *testing.T) {
	out := `Logi List Stat Sele Fetc Fet2 Stor Dele Expu Appe Logo
100%  50%  50% 100% 100% 100%  50% 100% 100% 100% 100%
                          30%                  5%
  10    5    5   10   10   14    3    5   10    9   10   20/ 20
Error: u3@example.test[7]: Message 4 UID changed
Totals:
Logi List Stat Sele Fetc Fet2 Stor Dele Expu Appe Logo
100%  50%  50% 100% 100% 100%  50% 100% 100% 100% 100%
                          30%                  5%
  98   48   48   98   97  136   34   49   97   94   99
`
	r := ParseStress(out)
	if len(r.Errors) != 1 || r.Totals["Fet2"] != 136 || r.Totals["Logi"] != 98 {
		t.Fatalf("%+v", r)
	}
}

func TestWriteMbox(t *testing.T) {
	var b bytes.Buffer
	if err := WriteMbox(&b, [][]byte{[]byte("Subject: a\r\n\r\nFrom here\r\n"), []byte("Subject: b\r\n\r\nx")}); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	if strings.Count(s, "\nFrom bench@") != 1 || !strings.HasPrefix(s, "From bench@") || !strings.Contains(s, "\n>From here\n") ||
		strings.Contains(s, "\r") {
		t.Fatalf("%q", s)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(sample)
	f.Fuzz(func(t *testing.T, s string) {
		if _, err := Parse(strings.NewReader(s)); err != nil && !strings.Contains(err.Error(), "token too long") {
			t.Fatal(err)
		}
		ParseStress(s)
	})
}
