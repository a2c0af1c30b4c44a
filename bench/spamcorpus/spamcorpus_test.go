package spamcorpus

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	gosmtp "github.com/emersion/go-smtp"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"From a@b  Thu Aug 22 12:36:23 2002\nSubject: x\n\nbody\n", "Subject: x\r\n\r\nbody\r\n"},
		{"Subject: x\r\n\r\nbody", "Subject: x\r\n\r\nbody\r\n"},
		{"Subject: x\n\nmixed\r\nends\n", "Subject: x\r\n\r\nmixed\r\nends\r\n"},
		{"From only", "\r\n"},
		{"Subject: x\n\nbare\rcr\r", "Subject: x\r\n\r\nbare\r\ncr\r\n"},
		{"\n", "\r\n"},
	} {
		if got := string(Normalize([]byte(tc.in))); got != tc.want {
			t.Errorf("Normalize(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// writeTgz makes a tarball laid out as the npm package is.
func writeTgz(t *testing.T, files map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	names := slices.Sorted(func(yield func(string) bool) {
		for n := range files {
			if !yield(n) {
				return
			}
		}
	})
	for _, n := range names {
		if err := tw.WriteHeader(&tar.Header{Name: "package/" + n, Mode: 0o644, Size: int64(len(files[n])), Typeflag: tar.TypeReg}); err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(tw, files[n]); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(t.TempDir(), "c.tgz")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoad(t *testing.T) {
	list, _ := json.Marshal([]string{"easy-ham-1/00001.aa.txt", "spam-2/00007.bb.txt", "hard-ham-1/00002.cc.txt"})
	p := writeTgz(t, map[string]string{
		"data/file_list.json":           string(list),
		"data/easy-ham-1/00001.aa.txt":  "From x  Thu\nSubject: ham\n\nhi\n",
		"data/easy-ham-1/00001.aa.json": `{"text":"ignored"}`,
		"data/spam-2/00007.bb.txt":      "Subject: spam\n\nbuy\n",
		"data/hard-ham-1/00002.cc.txt":  "Subject: hard\n\nhm\n",
		"data/spam-2/00009.dd.txt":      "not listed\n",
		"lib/index.js":                  "",
	})
	msgs, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3", len(msgs))
	}
	want := []struct {
		name string
		spam bool
		raw  string
	}{
		{"easy-ham-1/00001", false, "Subject: ham\r\n\r\nhi\r\n"},
		{"spam-2/00007", true, "Subject: spam\r\n\r\nbuy\r\n"},
		{"hard-ham-1/00002", false, "Subject: hard\r\n\r\nhm\r\n"},
	}
	for i, w := range want {
		m := msgs[i]
		if m.Index != i || m.Name != w.name || m.Spam != w.spam || string(m.Raw) != w.raw {
			t.Errorf("message %d = %d %s spam=%v %q, want %s spam=%v %q", i, m.Index, m.Name, m.Spam, m.Raw, w.name, w.spam, w.raw)
		}
	}
	if ham, spam := Counts(msgs); ham != 2 || spam != 1 {
		t.Errorf("Counts = %d ham, %d spam", ham, spam)
	}

	missing := writeTgz(t, map[string]string{"data/file_list.json": string(list)})
	if _, err := Load(missing); err == nil {
		t.Error("Load of a tarball lacking a listed file: no error")
	}
}

func TestCheckIntegrity(t *testing.T) {
	p := filepath.Join(t.TempDir(), tarball)
	if err := os.WriteFile(p, []byte("not the corpus"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := checkIntegrity(p); err == nil || !strings.Contains(err.Error(), "integrity") {
		t.Errorf("checkIntegrity of another file: %v", err)
	}
}

func corpusOf(ham, spam int) []Message {
	var msgs []Message
	for i := range ham + spam {
		msgs = append(msgs, Message{Index: i, Name: "m", Spam: i >= ham, Raw: []byte("Subject: x\r\n\r\nbody\r\n")})
	}
	return msgs
}

func TestSplit(t *testing.T) {
	msgs := corpusOf(415, 190)
	folds := Split(msgs, 10, 1)
	seen := map[int]bool{}
	for f, fold := range folds {
		var ham, spam int
		for _, i := range fold {
			if seen[i] {
				t.Fatalf("message %d in two folds", i)
			}
			seen[i] = true
			if msgs[i].Spam {
				spam++
			} else {
				ham++
			}
		}
		if ham < 41 || ham > 42 || spam != 19 {
			t.Errorf("fold %d: %d ham, %d spam; want 41-42 and 19", f, ham, spam)
		}
	}
	if len(seen) != len(msgs) {
		t.Errorf("%d of %d messages in a fold", len(seen), len(msgs))
	}
	if again := Split(msgs, 10, 1); !slices.EqualFunc(folds, again, slices.Equal) {
		t.Error("the same seed gave other folds")
	}
	if other := Split(msgs, 10, 2); slices.EqualFunc(folds, other, slices.Equal) {
		t.Error("another seed gave the same folds")
	}
}

func TestWriteFolds(t *testing.T) {
	msgs := corpusOf(6, 3)
	l, err := WriteFolds(filepath.Join(t.TempDir(), "folds"), msgs, Split(msgs, 3, 1))
	if err != nil {
		t.Fatal(err)
	}
	ham, spam := l.TrainDirs(1)
	if len(ham) != 2 || len(spam) != 2 || slices.Contains(ham, l.FoldDir(1, false)) {
		t.Fatalf("TrainDirs(1) = %v, %v", ham, spam)
	}
	n := 0
	for _, d := range append(ham, spam...) {
		files, _ := filepath.Glob(filepath.Join(d, "*.eml"))
		n += len(files)
	}
	if th, ts := l.TrainCounts(msgs, 1); n != 6 || th != 4 || ts != 2 {
		t.Errorf("training files %d, counts %d ham %d spam; want 6, 4, 2", n, th, ts)
	}
	b, err := os.ReadFile(l.File(0, msgs[l.Folds[0][0]]))
	if err != nil || !bytes.Equal(b, msgs[0].Raw) {
		t.Errorf("written message: %q, %v", b, err)
	}
}

func TestTally(t *testing.T) {
	var tl Tally
	for _, v := range []Verdict{
		{Spam: false, Junk: false, Score: 0.1},
		{Spam: false, Junk: true, Score: 0.95},
		{Spam: false, Junk: false, Score: math.NaN()},
		{Spam: false, Junk: false, Score: 0.2},
		{Spam: true, Junk: true, Score: 0.99},
		{Spam: true, Junk: false, Score: 0.5},
	} {
		tl.Add(v)
	}
	if tl.Ham != 4 || tl.Spam != 2 || tl.HamInJunk != 1 || tl.SpamInJunk != 1 || tl.UnscoredCount != 1 {
		t.Fatalf("tally %+v", tl)
	}
	if tl.FPRate() != 0.25 || tl.Recall() != 0.5 {
		t.Errorf("FP %v recall %v", tl.FPRate(), tl.Recall())
	}
	if s := tl.Plus(tl); s.Ham != 8 || s.SpamInJunk != 2 {
		t.Errorf("Plus: %+v", s)
	}
	if !math.IsNaN((Tally{}).Recall()) {
		t.Error("recall of no spam is not NaN")
	}
}

func TestScoresBestUnder(t *testing.T) {
	s := Scores{Ham: []float64{0.1, 0.2, 0.3, 0.6}, Spam: []float64{0.5, 0.7, 0.9, 0.95}}
	if p := s.At(0.5); p.FPRate != 0.25 || p.Recall != 1 {
		t.Errorf("At(0.5) = %+v", p)
	}
	if p := s.Above(0.5); p.FPRate != 0.25 || p.Recall != 0.75 {
		t.Errorf("Above(0.5) = %+v", p)
	}
	p, ok := s.BestUnder(0.25)
	if !ok || p.Threshold != 0.5 || p.Recall != 1 {
		t.Errorf("BestUnder(0.25) = %+v %v", p, ok)
	}
	p, _ = s.BestUnder(0)
	if p.Threshold != 0.7 || p.FPRate != 0 || p.Recall != 0.75 {
		t.Errorf("BestUnder(0) = %+v", p)
	}
	all := Scores{Ham: []float64{1}, Spam: []float64{1}}
	if p, _ := all.BestUnder(0); !math.IsInf(p.Threshold, 1) || p.Recall != 0 {
		t.Errorf("BestUnder with ham at the top = %+v", p)
	}
	if _, ok := (Scores{}).BestUnder(0.1); ok {
		t.Error("BestUnder of no scores is ok")
	}
	if m := Merge(s, s); len(m.Ham) != 8 || len(m.Spam) != 8 {
		t.Errorf("Merge: %d, %d", len(m.Ham), len(m.Spam))
	}
}

func TestParseSpamStatus(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want SpamStatus
		bad  bool
	}{
		{in: "Yes, score=9.87 required=9.00 tests=BAYES", want: SpamStatus{Spam: true, Score: 9.87, HasScore: true, Required: "9.00"}},
		{in: " no, score=0.12  required=9.0", want: SpamStatus{Score: 0.12, HasScore: true, Required: "9.0"}},
		{in: "No", want: SpamStatus{}},
		{in: "Maybe, score=1", bad: true},
		{in: "Yes, score=x", bad: true},
	} {
		got, err := ParseSpamStatus(tc.in)
		if (err != nil) != tc.bad || !tc.bad && got != tc.want {
			t.Errorf("ParseSpamStatus(%q) = %+v, %v; want %+v (error: %v)", tc.in, got, err, tc.want, tc.bad)
		}
	}
}

func TestParseStored(t *testing.T) {
	h := "Return-Path: <msg-123@corpus.bench.test>\r\n" +
		"Return-Path: <original@example.com>\r\n" +
		"X-Spam-Status: Yes, score=9.50 required=9.00\r\n tests=BAYES_99\r\n\r\n"
	s, err := ParseStored([]byte(h))
	if err != nil {
		t.Fatal(err)
	}
	if s.Index != 123 || len(s.Status) != 1 || !s.Status[0].Spam || s.Status[0].Score != 9.5 {
		t.Errorf("ParseStored = %+v", s)
	}
	for _, bad := range []string{
		"X-Spam-Status: No\r\n\r\n",
		"Return-Path: <someone@example.com>\r\n\r\n",
		"Return-Path: <msg-x@corpus.bench.test>\r\n\r\n",
		"Return-Path: <msg--1@corpus.bench.test>\r\n\r\n",
		"Return-Path: <>\r\n\r\n",
	} {
		if _, err := ParseStored([]byte(bad)); err == nil {
			t.Errorf("ParseStored(%q): no error", bad)
		}
	}
}

func FuzzParseStored(f *testing.F) {
	f.Add([]byte("Return-Path: <msg-1@corpus.bench.test>\r\nX-Spam-Status: No, score=1 required=9\r\n\r\n"))
	f.Add([]byte("X-Spam-Status: Yes,\r\n\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := ParseStored(b)
		if err == nil && s.Index < 0 {
			t.Errorf("negative index from %q", b)
		}
	})
}

func FuzzParseSpamStatus(f *testing.F) {
	f.Add("Yes, score=9.87 required=9.00 tests=BAYES")
	f.Add("no")
	f.Fuzz(func(t *testing.T, s string) {
		st, err := ParseSpamStatus(s)
		if err == nil && !st.HasScore && st.Score != 0 {
			t.Errorf("score without HasScore from %q", s)
		}
	})
}

func TestParseBogoLine(t *testing.T) {
	byFile := map[string]Message{"/f/1.eml": {Index: 1, Spam: true}, "/f/2.eml": {Index: 2}}
	v, class, file, err := parseBogoLine("/f/1.eml S 0.999", byFile)
	if err != nil || class != "S" || file != "/f/1.eml" || !v.Junk || !v.Spam || v.Score != 0.999 {
		t.Errorf("S line: %+v %s %s %v", v, class, file, err)
	}
	v, class, _, err = parseBogoLine("/f/2.eml U 6.2e-10", byFile)
	if err != nil || class != "U" || v.Junk || v.Score != 6.2e-10 {
		t.Errorf("U line: %+v %s %v", v, class, err)
	}
	for _, bad := range []string{"/f/3.eml S 1", "/f/1.eml X 1", "/f/1.eml S x", "/f/1.eml S", ""} {
		if _, _, _, err := parseBogoLine(bad, byFile); err == nil {
			t.Errorf("parseBogoLine(%q): no error", bad)
		}
	}
}

func TestJudge(t *testing.T) {
	batch := []Message{{Index: 4, Spam: true}, {Index: 7}, {Index: 9}}
	yes := []SpamStatus{{Spam: true, Score: 9.9, HasScore: true, Required: "9"}}
	no := []SpamStatus{{Score: 0.1, HasScore: true, Required: "9"}}
	stored := []Stored{
		{Mailbox: "Junk", Index: 4, Status: yes},
		{Mailbox: "INBOX", Index: 7, Status: no},
		{Mailbox: "INBOX", Index: 9, Status: yes}, // disagrees
	}
	vs, fc, err := Judge(batch, stored)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 3 || !vs[0].Junk || vs[1].Junk || fc.Disagree != 1 || fc.Required != "9" {
		t.Errorf("Judge = %+v %+v", vs, fc)
	}
	if _, _, err := Judge(batch, stored[:2]); err == nil {
		t.Error("a message not stored: no error")
	}
	if _, _, err := Judge(batch, append(stored, stored[0])); err == nil {
		t.Error("a message stored twice: no error")
	}
	if _, _, err := Judge(batch[:2], stored); err == nil {
		t.Error("a message not delivered: no error")
	}
	_, fc, _ = Judge(batch, []Stored{{Mailbox: "INBOX", Index: 4}, {Mailbox: "INBOX", Index: 7, Status: append(no, no...)}, {Mailbox: "INBOX", Index: 9, Status: no}})
	if fc.Missing != 1 || fc.Several != 1 {
		t.Errorf("field check %+v", fc)
	}
}

func TestCostMessages(t *testing.T) {
	pick := []Message{{Raw: []byte("Subject: a\r\n\r\nx\r\n")}, {Raw: []byte("Subject: b\r\n\r\ny\r\n")}}
	out := costMessages("r1", 3, pick)
	if len(out) != 3 || string(out[2]) != "X-Bench-Seq: r1 3\r\nSubject: a\r\n\r\nx\r\n" || bytes.Equal(out[0], out[2]) {
		t.Errorf("costMessages = %q", out)
	}
}

// TestDeliver delivers to an in-process SMTP server that refuses the first
// attempt of every message with a 451 and checks that every message
// arrives once, byte for byte, from its own envelope sender.
func TestDeliver(t *testing.T) {
	be := &recorder{got: map[string][]byte{}, tried: map[string]int{}}
	s := gosmtp.NewServer(be)
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	l, err := listenLoopback()
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(l)
	defer s.Close()
	msgs := []Message{
		{Index: 0, Raw: []byte("Subject: a\r\n\r\n.starts with a dot\r\n")},
		{Index: 1, Raw: []byte("Subject: b\r\n\r\nbody\r\n")},
		{Index: 2, Raw: []byte("Subject: c\r\n\r\n8bit \xe9\r\n")},
	}
	if err := Deliver(context.Background(), []string{l.Addr().String()}, "u1@example.test", msgs, 2); err != nil {
		t.Fatal(err)
	}
	for _, m := range msgs {
		got := be.got[Sender(m)]
		if !bytes.Equal(got, m.Raw) {
			t.Errorf("%s: got %q, want %q", Sender(m), got, m.Raw)
		}
	}
	be.refuseAll = true
	err = Deliver(context.Background(), []string{l.Addr().String()}, "u1@example.test", msgs[:1], 1)
	if err == nil || !strings.Contains(err.Error(), "reply 554") {
		t.Errorf("Deliver to a server refusing everything: %v", err)
	}
}

type recorder struct {
	mu        sync.Mutex
	got       map[string][]byte
	tried     map[string]int
	refuseAll bool
}

func (r *recorder) NewSession(*gosmtp.Conn) (gosmtp.Session, error) { return &recSession{r: r}, nil }

type recSession struct {
	r    *recorder
	from string
}

func (s *recSession) Mail(from string, _ *gosmtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *recSession) Rcpt(string, *gosmtp.RcptOptions) error { return nil }
func (s *recSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.r.mu.Lock()
	defer s.r.mu.Unlock()
	if s.r.refuseAll {
		return &gosmtp.SMTPError{Code: 554, EnhancedCode: gosmtp.EnhancedCode{5, 7, 1}, Message: "no"}
	}
	s.r.tried[s.from]++
	if s.r.tried[s.from] == 1 {
		return &gosmtp.SMTPError{Code: 451, EnhancedCode: gosmtp.EnhancedCode{4, 7, 1}, Message: "try again"}
	}
	s.r.got[s.from] = b
	return nil
}
func (s *recSession) Reset()        {}
func (s *recSession) Logout() error { return nil }

func listenLoopback() (net.Listener, error) { return net.Listen("tcp", "127.0.0.1:0") }
