package filter

import (
	"bytes"
	"testing"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

func TestFields(t *testing.T) {
	fs, rest := fields([]byte("A: 1\r\n 2\r\nB: 3\nC: 4\r\n\r\nbody"))
	want := []string{"A: 1\r\n 2\r\n", "B: 3\n", "C: 4\r\n"}
	if len(fs) != len(want) || string(rest) != "\r\nbody" {
		t.Fatalf("fields %q rest %q", fs, rest)
	}
	for i := range want {
		if string(fs[i]) != want[i] {
			t.Fatalf("field %d %q", i, fs[i])
		}
	}
}

func TestOwnHeader(t *testing.T) {
	prepend := "X-Spam-Status: No, score=1.00 required=8.00 tests=none\r\nAuthentication-Results: mx; spf=pass\r\n"
	own := "From: a@remote.test\r\nSubject: hi\r\n\r\n"
	for _, tc := range []struct{ edited, want string }{
		{prepend + own, own},
		{"X-Added: 1\r\n" + prepend + own, "X-Added: 1\r\n" + own},
		{prepend + "From: a@remote.test\r\n\r\n", "From: a@remote.test\r\n\r\n"},
		// A deleted earlier field is not deleted from the copy.
		{"Authentication-Results: mx; spf=pass\r\n" + own, own},
		{prepend + own[:len(own)-2], own},
	} {
		if got := string(ownHeader([]byte(tc.edited), []byte(prepend))); got != tc.want {
			t.Errorf("ownHeader(%q) = %q, want %q", tc.edited, got, tc.want)
		}
	}
}

// spamtest (RFC 5235) reads the classifier's X-Spam-Status for the copy.
func TestSpamtest(t *testing.T) {
	for _, tc := range []struct {
		field          string
		value, percent int
		ok             bool
	}{
		{"X-Spam-Status: Yes, score=9.73 required=8.00 tests=BAYES_99\r\n", 10, 100, true},
		{"X-Spam-Status: Yes, score=2.00 required=8.00 tests=BAYES_20,JUNKED_BEFORE\r\n", 10, 100, true},
		{"X-Spam-Status: No, score=0.00 required=8.00 tests=BAYES_00\r\n", 1, 0, true},
		{"X-Spam-Status: No, score=4.00 required=8.00\r\n tests=BAYES_40\r\n", 6, 50, true},
		{"X-Spam-Status: No, score=7.99 required=8.00 tests=none\r\n", 9, 99, true},
		{"x-spam-status: no, score=8.5 required=8\r\n", 9, 99, true},
		{"X-Spam-Status: No, tests=none\r\n", 0, 0, false},
		{"X-Spam-Status: No, score=NaN required=8\r\n", 0, 0, false},
		{"X-Spam-Status: No, score=1 required=0\r\n", 0, 0, false},
		{"Subject: score=1 required=2\r\n", 0, 0, false},
	} {
		v, p, ok := spamScore([]byte("Authentication-Results: x\r\n" + tc.field))
		if v != tc.value || p != tc.percent || ok != tc.ok {
			t.Errorf("%q: %d %d %v, want %d %d %v", tc.field, v, p, ok, tc.value, tc.percent, tc.ok)
		}
	}
}

// The recipient's own verdict (a per-user model) reaches its env, and
// virustest the scanner's.
func TestSpamtestPerRecipient(t *testing.T) {
	h := newHarness(t)
	got := map[string]int{}
	var virus *int
	h.interp.def("s", func(_ sieve.Message, env sieve.Env) (*sieve.Result, error) {
		if env.SpamScore != nil {
			got[env.User] = *env.SpamScore
		}
		virus = env.VirusScore
		return &sieve.Result{Keep: true}, nil
	})
	h.store.put("a@example.com", "s", "s")
	h.store.put("b@example.com", "s", "s")
	_, err := h.deliver(t, mxEnv("s@remote.test", "a@example.com", "b@example.com"), testMessage,
		prependCheck{facts: []string{"clamd=clean"}, per: map[string]string{
			"a@example.com": "X-Spam-Status: Yes, score=9.00 required=8.00 tests=BAYES_99\r\n",
			"b@example.com": "X-Spam-Status: No, score=0.00 required=8.00 tests=BAYES_00\r\n",
		}})
	if err != nil {
		t.Fatal(err)
	}
	if got["a@example.com"] != 10 || got["b@example.com"] != 1 {
		t.Fatalf("spamtest %v", got)
	}
	if virus == nil || *virus != 1 {
		t.Fatalf("virustest %v", virus)
	}
	if v, ok := virusScore(pipeline.Result{Facts: []string{"clamd=infected"}}); !ok || v != 5 {
		t.Fatal("infected")
	}
}

func FuzzParseSpamStatus(f *testing.F) {
	f.Add("Yes, score=9.73 required=8.00 tests=BAYES_99")
	f.Add("No, score=-1e308 required=1e-308")
	f.Fuzz(func(t *testing.T, v string) {
		value, percent, ok := parseSpamStatus(v)
		if ok && (value < 1 || value > 10 || percent < 0 || percent > 100) {
			t.Fatalf("%q: %d %d", v, value, percent)
		}
		if !ok && (value != 0 || percent != 0) {
			t.Fatalf("%q: not ok but %d %d", v, value, percent)
		}
	})
}

// FuzzOwnHeader: fields split and join back to the block, and ownHeader
// always ends in an empty line and never grows.
func FuzzOwnHeader(f *testing.F) {
	f.Add([]byte("A: 1\r\n 2\r\nB: 3\r\n\r\n"), []byte("A: 1\r\n 2\r\n"))
	f.Add([]byte("\n"), []byte(""))
	f.Fuzz(func(t *testing.T, edited, prepend []byte) {
		fs, rest := fields(edited)
		var joined []byte
		for _, x := range fs {
			joined = append(joined, x...)
		}
		if !bytes.Equal(append(joined, rest...), edited) {
			t.Fatalf("fields of %q do not join back", edited)
		}
		out := ownHeader(edited, prepend)
		end := rest
		if len(end) == 0 {
			end = []byte("\r\n")
		}
		if !bytes.HasSuffix(out, end) {
			t.Fatalf("%q does not end the block", out)
		}
		if len(out) > len(edited)+2 {
			t.Fatalf("grew: %q from %q", out, edited)
		}
	})
}

func TestCutHeader(t *testing.T) {
	h := []byte("A: 1\r\nB: 22\r\n 3\r\nC: 4\r\n\r\n")
	if got := string(cutHeader(h, 100)); got != string(h) {
		t.Fatalf("uncut %q", got)
	}
	if got := string(cutHeader(h, 20)); got != "A: 1\r\nB: 22\r\n 3\r\n\r\n" {
		t.Fatalf("cut %q", got)
	}
	if got := string(cutHeader(h, 3)); got != "\r\n" {
		t.Fatalf("cut to nothing %q", got)
	}
}
