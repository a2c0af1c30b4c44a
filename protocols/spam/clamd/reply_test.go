package clamd

import (
	"errors"
	"strings"
	"testing"
)

// TestParseReply: the replies of clamd(8) to INSTREAM.
func TestParseReply(t *testing.T) {
	for _, tc := range []struct {
		reply string
		want  Result
		err   error // nil, ErrSizeLimit, or errReply for a *ReplyError
	}{
		{"stream: OK", Result{}, nil},
		{"stream: OK\x00", Result{}, nil},
		{"stream: OK\n", Result{}, nil},
		{"stream: Eicar-Test-Signature FOUND", Result{Infected: true, Signature: "Eicar-Test-Signature"}, nil},
		{"stream: Win.Test.EICAR_HDB-1 FOUND\x00", Result{Infected: true, Signature: "Win.Test.EICAR_HDB-1"}, nil},
		{"1: stream: OK", Result{}, nil}, // IDSESSION's request number
		{"12: stream: Heuristics.Phishing.Email.SpoofedDomain FOUND", Result{Infected: true, Signature: "Heuristics.Phishing.Email.SpoofedDomain"}, nil},
		{"stream: Bad\x01Name FOUND", Result{Infected: true, Signature: "Bad_Name"}, nil},
		{"INSTREAM size limit exceeded. ERROR", Result{}, ErrSizeLimit},
		{"1: INSTREAM size limit exceeded. ERROR", Result{}, ErrSizeLimit},
		{"stream: Can't allocate memory ERROR", Result{}, errReply},
		{"UNKNOWN COMMAND", Result{}, errReply},
		{"", Result{}, errReply},
		{"stream:  FOUND", Result{}, errReply},
		{"stream: maybe", Result{}, errReply},
	} {
		got, err := parseReply(tc.reply)
		switch {
		case tc.err == errReply:
			var re *ReplyError
			if !errors.As(err, &re) {
				t.Errorf("parseReply(%q) = %+v, %v; want a *ReplyError", tc.reply, got, err)
			}
		case !errors.Is(err, tc.err):
			t.Errorf("parseReply(%q) error = %v, want %v", tc.reply, err, tc.err)
		case got != tc.want:
			t.Errorf("parseReply(%q) = %+v, want %+v", tc.reply, got, tc.want)
		}
	}
}

var errReply = errors.New("a *ReplyError")

// FuzzParseReply: any reply gives a verdict or an error, never both, and
// a signature fit for an SMTP reply line.
func FuzzParseReply(f *testing.F) {
	for _, s := range []string{"stream: OK", "stream: Eicar-Test-Signature FOUND", "INSTREAM size limit exceeded. ERROR", "1: stream: OK\x00", ": FOUND", "9: : X FOUND"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		res, err := parseReply(s)
		if err != nil && res != (Result{}) {
			t.Fatalf("parseReply(%q) = %+v with error %v", s, res, err)
		}
		if res.Infected {
			if res.Signature == "" || len(res.Signature) > maxSignature {
				t.Fatalf("parseReply(%q): signature %q", s, res.Signature)
			}
			if strings.ContainsFunc(res.Signature, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
				t.Fatalf("parseReply(%q): signature %q is not printable ASCII", s, res.Signature)
			}
		}
		if !res.Infected && res.Signature != "" {
			t.Fatalf("parseReply(%q): a signature without a finding", s)
		}
	})
}
