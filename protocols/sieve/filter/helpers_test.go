package filter

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	evlog "github.com/surat-mail/surat/log"
	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// fakeStore holds scripts, forwarding, records and mailboxes in memory.
type fakeStore struct {
	mu        sync.Mutex
	active    map[string]string            // owner → active script name
	scripts   map[string]map[string][]byte // owner → name → source
	forward   map[string]forward
	replied   map[string]bool // user|handle|sender
	dups      map[string]bool // user|id
	mailboxes map[string]bool // user|name
	aliases   map[string][]string
	reads     int
	fail      error
}

func newFakeStore() *fakeStore {
	return &fakeStore{active: map[string]string{}, scripts: map[string]map[string][]byte{},
		forward: map[string]forward{}, replied: map[string]bool{}, dups: map[string]bool{},
		mailboxes: map[string]bool{}, aliases: map[string][]string{}}
}

// put stores a script and makes it the owner's active one.
func (s *fakeStore) put(owner, name, src string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.scripts[owner] == nil {
		s.scripts[owner] = map[string][]byte{}
	}
	s.scripts[owner][name] = []byte(src)
	s.active[owner] = name
}

func (s *fakeStore) ActiveScript(_ context.Context, owner string) (string, []byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reads++
	if s.fail != nil {
		return "", nil, false, s.fail
	}
	name, ok := s.active[owner]
	if !ok {
		return "", nil, false, nil
	}
	return name, s.scripts[owner][name], true, nil
}

func (s *fakeStore) Script(_ context.Context, owner, name string) ([]byte, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	src, ok := s.scripts[owner][name]
	return src, ok, nil
}

func (s *fakeStore) Forwarding(_ context.Context, user string) ([]string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.forward[user]
	return f.to, f.keep, nil
}

func (s *fakeStore) VacationReplied(user, handle, sender string, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.replied[user+"|"+handle+"|"+sender], nil
}

func (s *fakeStore) DuplicateSeen(user string, id []byte, _ time.Time) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dups[user+"|"+string(id)], nil
}

func (s *fakeStore) MailboxExists(user, name string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mailboxes[user+"|"+name], nil
}

func (s *fakeStore) Addresses(user string) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.aliases[user], nil
}

// fakeProg is a compiled script whose behaviour is a Go function.
type fakeProg struct {
	run      func(msg sieve.Message, env sieve.Env) (*sieve.Result, error)
	usesBody bool
}

func (p *fakeProg) Execute(ctx context.Context, msg sieve.Message, env sieve.Env) (*sieve.Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.run(msg, env)
}

func (p *fakeProg) UsesBody() bool { return p.usesBody }

// interp stands for the interpreter: a source text names a fakeProg.
type interp struct {
	mu       sync.Mutex
	progs    map[string]*fakeProg
	compiled int
}

func newInterp() *interp { return &interp{progs: map[string]*fakeProg{}} }

// def registers the behaviour of the script whose source is src.
func (in *interp) def(src string, run func(msg sieve.Message, env sieve.Env) (*sieve.Result, error)) {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.progs[src] = &fakeProg{run: run}
}

// result registers a script that always decides res.
func (in *interp) result(src string, res sieve.Result) {
	in.def(src, func(sieve.Message, sieve.Env) (*sieve.Result, error) {
		r := res
		return &r, nil
	})
}

func (in *interp) compile(src []byte, include func(bool, string) ([]byte, error)) (Program, error) {
	in.mu.Lock()
	in.compiled++
	p, ok := in.progs[string(src)]
	in.mu.Unlock()
	// "include NAME" lines are read, like the interpreter would at
	// compile time.
	for _, line := range strings.Split(string(src), "\n") {
		if name, found := strings.CutPrefix(line, "include "); found {
			global := strings.HasPrefix(name, ":global ")
			name = strings.TrimPrefix(name, ":global ")
			if _, err := include(global, strings.TrimSpace(name)); err != nil {
				return nil, err
			}
		}
	}
	if !ok {
		return nil, &sieve.CompileError{Line: 1, Msg: "line 1: unknown test script " + fmt.Sprintf("%q", src)}
	}
	return p, nil
}

// fakeReplies builds recognizable reply messages.
type fakeReplies struct {
	refuse string // ShouldReply says no with this reason when set
	big    bool
}

func (f *fakeReplies) ShouldReply(header []byte, envFrom string, _ []string) (bool, string) {
	if f.refuse != "" {
		return false, f.refuse
	}
	if bytes.Contains(bytes.ToLower(header), []byte("precedence: bulk")) {
		return false, "bulk"
	}
	return true, ""
}

func (f *fakeReplies) Vacation(r VacationReply) ([]byte, error) {
	body := "Auto-Submitted: auto-replied\r\nTo: " + r.To + "\r\nSubject: Auto: away\r\n\r\n" + r.Vacation.Reason + "\r\n"
	if f.big {
		body += strings.Repeat("x", maxOneReply)
	}
	return []byte(body), nil
}

func (f *fakeReplies) Rejection(r Rejection) ([]byte, error) {
	return []byte("Auto-Submitted: auto-replied\r\nTo: " + r.To + "\r\nSubject: Rejected\r\n\r\n" + r.Reason + "\r\n"), nil
}

// harness is a Check over fakes.
type harness struct {
	store   *fakeStore
	interp  *interp
	replies *fakeReplies
	check   *Check
	now     time.Time
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := &harness{store: newFakeStore(), interp: newInterp(), replies: &fakeReplies{},
		now: time.Date(2026, 12, 2, 15, 0, 0, 0, time.UTC)}
	var err error
	h.check, err = New(Config{
		Scripts: h.store, Forwarding: h.store, Records: h.store, Mailboxes: h.store, Replies: h.replies,
		Compile: h.interp.compile, Now: func() time.Time { return h.now },
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

const testMessage = "From: sender@remote.test\r\nTo: alice@example.com\r\nSubject: hello\r\nMessage-ID: <1@remote.test>\r\n\r\nHello,\r\nthe body.\r\n"

// prependCheck is an earlier check that adds fields (per recipient when
// per is set) and facts.
type prependCheck struct {
	fields string
	per    map[string]string
	junk   bool
	facts  []string
}

func (p prependCheck) Name() string { return "before" }
func (p prependCheck) Start(context.Context, pipeline.Envelope) (pipeline.Run, error) {
	return &prependRun{p}, nil
}

type prependRun struct{ p prependCheck }

func (r *prependRun) Write(b []byte) (int, error) { return len(b), nil }
func (r *prependRun) Abort()                      {}
func (r *prependRun) Finish(context.Context) (pipeline.Outcome, error) {
	o := pipeline.Outcome{Prepend: []byte(r.p.fields), Facts: r.p.facts}
	if r.p.junk {
		o.Action = pipeline.Junk
	}
	for rcpt, f := range r.p.per {
		if o.Recipients == nil {
			o.Recipients = map[string]pipeline.RecipientOutcome{}
		}
		o.Recipients[rcpt] = pipeline.RecipientOutcome{Prepend: []byte(f)}
	}
	return o, nil
}

// deliver runs the checks (before, then the Sieve check) on msg as the
// SMTP server does; nil runs when the Sieve check did not apply.
func (h *harness) deliver(t *testing.T, env pipeline.Envelope, msg string, before ...pipeline.Check) (pipeline.Result, error) {
	t.Helper()
	if env.Received.IsZero() {
		env.Received = h.now
	}
	checks := append(before, h.check)
	runs, err := pipeline.Start(context.Background(), checks, env)
	if err != nil {
		return pipeline.Result{}, err
	}
	if _, err := io.Copy(io.Discard, runs.Reader(strings.NewReader(msg))); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return runs.Finish(ctx)
}

func mxEnv(from string, local ...string) pipeline.Envelope {
	return pipeline.Envelope{From: from, Local: local, RemoteIP: "192.0.2.1", Helo: "mx.remote.test"}
}

// eventsOf returns the events of one kind.
func eventsOf[T any](res pipeline.Result, get func(*evlog.Event) T) []T {
	var out []T
	var zero T
	for _, e := range res.Events {
		if v := get(e); any(v) != any(zero) {
			out = append(out, v)
		}
	}
	return out
}

func vacations(res pipeline.Result) []*evlog.VacationReplied {
	return eventsOf(res, (*evlog.Event).GetVacationReplied)
}

func blobs(res pipeline.Result) []*evlog.BlobStored {
	return eventsOf(res, (*evlog.Event).GetBlobStored)
}

func queued(res pipeline.Result) []*evlog.Queued {
	return eventsOf(res, (*evlog.Event).GetQueued)
}

func duplicates(res pipeline.Result) []*evlog.DuplicateRecorded {
	return eventsOf(res, (*evlog.Event).GetDuplicateRecorded)
}

var errBoom = errors.New("boom")

// stripCheck removes fields of one name from the stored stream, as the
// spam check's Filter does.
type stripCheck struct{ name string }

func (s stripCheck) Name() string { return "strip" }
func (s stripCheck) Start(context.Context, pipeline.Envelope) (pipeline.Run, error) {
	return &stripRun{s.name}, nil
}

type stripRun struct{ name string }

func (r *stripRun) Write(b []byte) (int, error)                      { return len(b), nil }
func (r *stripRun) Abort()                                           {}
func (r *stripRun) Finish(context.Context) (pipeline.Outcome, error) { return pipeline.Outcome{}, nil }
func (r *stripRun) Filter(in io.Reader) io.Reader {
	b, err := io.ReadAll(in)
	if err != nil {
		return in
	}
	var out []string
	for _, l := range strings.SplitAfter(string(b), "\r\n") {
		if !strings.HasPrefix(l, r.name+":") {
			out = append(out, l)
		}
	}
	return strings.NewReader(strings.Join(out, ""))
}

func stringsCut(s, sep string) (string, string, bool) { return strings.Cut(s, sep) }
