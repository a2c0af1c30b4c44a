package sieve

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Message is the message a script runs on.
type Message struct {
	// Header is the raw header block, up to and including the empty
	// line.
	Header []byte
	// Body returns the body after the header; nil means no body (the
	// body test sees an empty one).
	Body func() (io.Reader, error)
	// Size is the whole message's size, for the size test.
	Size int64
}

// Env is what the script knows about the delivery besides the message.
type Env struct {
	// From and To are the envelope: MAIL FROM (empty for the null
	// sender) and the original RCPT TO of this recipient.
	From, To string
	// User is the canonical user the script runs for.
	User string
	// Auth is the authenticated submitter, or empty.
	Auth string
	// Now is the time of the delivery: currentdate, vacation and
	// duplicate use it, so Execute is deterministic.
	Now time.Time
	// Addresses are the user's own addresses (RFC 5230 §4.5).
	Addresses []string
	// SpamScore is spamtest's 0..10 and VirusScore virustest's 0..5
	// (RFC 5235); nil: not tested.
	SpamScore, VirusScore *int
	// SpamPercent is spamtest :percent's 0..100; nil: not tested.
	SpamPercent *int
	// MailboxExists answers mailboxexists (RFC 5490); nil: none exist.
	MailboxExists func(name string) bool
	// Duplicate reports whether an id was seen and is still tracked
	// (RFC 7352); nil: never seen.
	Duplicate func(id []byte) bool
	// Environment holds environment items (RFC 5183 §4) beyond the ones
	// the interpreter knows itself ("name", "version", "location",
	// "phase"): "domain", "host", "remote-host", "remote-ip".
	Environment map[string]string
}

// FileInto is one fileinto action (RFC 5228 §4.1).
type FileInto struct {
	Mailbox string
	Create  bool     // :create (RFC 5490 §3.2)
	Flags   []string // IMAP flags (RFC 5232)
}

// Reject is a reject or ereject action (RFC 5429).
type Reject struct {
	Reason   string
	Extended bool // ereject
}

// Vacation is a vacation action (RFC 5230, RFC 6131): the caller decides
// whether to reply (RFC 5230 §4.5, §4.6) and sends the reply.
type Vacation struct {
	// Handle identifies the vacation for the "already replied" records
	// (RFC 5230 §4.2): :handle, or a digest of the arguments.
	Handle  string
	Subject string // :subject (RFC 2047 words decoded), empty for the default
	From    string // :from, empty for the user's address
	// Addresses are the user's own addresses: :addresses, Env.Addresses
	// and Env.User.
	Addresses []string
	Mime      bool // the reason is a MIME entity (:mime)
	// Reason is the text as the script has it: a multi-line string keeps
	// the script's line ends (CRLF or LF), which the reply normalizes.
	Reason string
	// Period is how long to wait before replying again to the same
	// sender: :days (clamped to 1–30, default 7) or :seconds (clamped
	// to at least one second and at most 30 days).
	Period time.Duration
}

// Result is what a script decided. Without a runtime error it always
// says what happens to the message: Keep, FileInto and Redirects list
// every copy; none of them and no Reject means the message was
// discarded.
type Result struct {
	Keep      bool     // a keep (explicit or implicit) stays in effect
	KeepFlags []string // flags for the kept copy (RFC 5232)
	FileInto  []FileInto
	Redirects []string // addresses, deduplicated
	Discarded bool     // a discard ran and nothing else keeps a copy
	Reject    *Reject
	Vacation  *Vacation
	// Header is non-nil when editheader changed the header block: the
	// new block, ending with the empty line.
	Header []byte
	// Duplicates are the ids the duplicate test asks to record, with
	// the time they are tracked for (RFC 7352).
	Duplicates       [][]byte
	DuplicateExpires time.Duration
	// Log says what the script did, for the delivery log line.
	Log []string
}

// Runtime errors. Each is wrapped with the line of the command at fault;
// the caller keeps the message (RFC 5228 §2.10.6).
var (
	ErrTooManySteps     = errors.New("sieve: step limit exceeded")
	ErrTooManyRedirects = errors.New("sieve: redirect limit exceeded")
	ErrConflict         = errors.New("sieve: conflicting actions")
	ErrTooLong          = errors.New("sieve: expanded string too long")
	ErrTooManyActions   = errors.New("sieve: action limit exceeded")
	ErrHeaderTooLarge   = errors.New("sieve: editheader grew the header too much")
)

// RuntimeError is an error found while running a script.
type RuntimeError struct {
	Line int
	Err  error
}

func (e *RuntimeError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *RuntimeError) Unwrap() error { return e.Err }

// flow is how a block ended.
type flow int

const (
	flowNext   flow = iota
	flowStop        // stop: ends the whole execution
	flowReturn      // return: ends the current (included) script
)

// state is one Execute: everything the scripts of the include tree share.
type state struct {
	ctx    context.Context
	msg    Message
	env    Env
	lim    Limits
	steps  int
	fields []field
	edited bool
	grown  int // bytes editheader added
	// addrCache holds parsed address fields by value.
	addrCache map[string][]string

	implicitKeep bool
	explicitKeep bool
	keepFlags    []string
	discarded    bool
	fileinto     []FileInto
	redirects    []string
	reject       *Reject
	vacation     *Vacation
	flags        []string // the internal flags variable (RFC 5232 §3)
	globals      map[string]string
	onceDone     map[*Script]bool
	dupes        [][]byte
	dupExpires   time.Duration
	log          []string
	body         *bodyCache
}

// frame is one script's activation: its own variables (RFC 6609 §3.3:
// variables are local to a script unless global).
type frame struct {
	s        *Script
	vars     map[string]string
	match    []string
	isGlobal map[string]bool
}

// Execute runs the script on a message. A runtime error (a limit, a
// conflict, the context ending) returns an error and no result: the
// caller keeps the message (RFC 5228 §2.10.6).
func (s *Script) Execute(ctx context.Context, msg Message, env Env) (*Result, error) {
	return ExecuteSequence(ctx, []*Script{s}, msg, env)
}

// ExecuteSequence runs scripts one after the other on the same message,
// as Pigeonhole runs its sieve_before scripts and then the user's: the
// global script, the domain's, then the user's active one (nil entries
// are skipped). Their actions accumulate into one Result. Each script
// starts with a fresh implicit keep, its own variables and flags; the
// next script runs only while the message is still kept (implicitly or
// explicitly) when the previous one ends, so a before-script that files
// or discards the message has the last word. A stop ends only the
// script that runs it. A runtime error in any script fails the whole
// sequence, and the caller keeps the message.
func ExecuteSequence(ctx context.Context, scripts []*Script, msg Message, env Env) (*Result, error) {
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	if ctx == nil {
		ctx = context.Background()
	}
	st := &state{
		ctx:          ctx,
		msg:          msg,
		env:          env,
		fields:       parseHeader(msg.Header),
		implicitKeep: true,
	}
	for _, s := range scripts {
		if s == nil {
			continue
		}
		if !st.implicitKeep && !st.explicitKeep {
			break
		}
		st.implicitKeep = true
		st.flags = nil
		st.steps = 0
		st.lim = s.limits.withDefaults()
		st.globals = map[string]string{}
		st.onceDone = map[*Script]bool{}
		if _, err := st.runScript(s); err != nil {
			return nil, err
		}
	}
	return st.result(), nil
}

func (st *state) runScript(s *Script) (flow, error) {
	f := &frame{s: s, vars: map[string]string{}, isGlobal: map[string]bool{}}
	return st.block(f, s.code)
}

func (st *state) step(o *op) error {
	st.steps++
	if st.steps > st.lim.MaxSteps {
		return &RuntimeError{Line: o.line, Err: ErrTooManySteps}
	}
	if st.steps&1023 == 0 {
		if err := st.ctx.Err(); err != nil {
			return &RuntimeError{Line: o.line, Err: err}
		}
	}
	return nil
}

// maxLog bounds Result.Log: it goes on one delivery log line.
const maxLog = 64

// logf records what the script did, up to maxLog entries.
func (st *state) logf(entry string) {
	switch {
	case len(st.log) < maxLog:
		st.log = append(st.log, entry)
	case len(st.log) == maxLog:
		st.log = append(st.log, "...")
	}
}

// work charges n steps for work proportional to data (comparisons).
func (st *state) work(o *op, n int) error {
	if n <= 0 {
		return nil
	}
	st.steps += n
	if st.steps > st.lim.MaxSteps {
		return &RuntimeError{Line: o.line, Err: ErrTooManySteps}
	}
	if err := st.ctx.Err(); err != nil {
		return &RuntimeError{Line: o.line, Err: err}
	}
	return nil
}

func (st *state) block(f *frame, ops []*op) (flow, error) {
	for _, o := range ops {
		fl, err := st.command(f, o)
		if err != nil || fl != flowNext {
			return fl, err
		}
	}
	return flowNext, nil
}

func (st *state) command(f *frame, o *op) (flow, error) {
	if err := st.step(o); err != nil {
		return flowNext, err
	}
	switch o.name {
	case "if":
		ok, err := st.test(f, o.tests[0])
		if err != nil {
			return flowNext, err
		}
		if ok {
			return st.block(f, o.block)
		}
		for _, b := range o.branches {
			if b.name == "else" {
				return st.block(f, b.block)
			}
			if err := st.step(b); err != nil {
				return flowNext, err
			}
			ok, err := st.test(f, b.tests[0])
			if err != nil {
				return flowNext, err
			}
			if ok {
				return st.block(f, b.block)
			}
		}
		return flowNext, nil
	case "stop":
		return flowStop, nil
	case "return":
		return flowReturn, nil
	case "include":
		return st.include(f, o)
	case "global":
		for _, name := range f.strs(st, o.pos[0]) {
			f.isGlobal[strings.ToLower(name)] = true
		}
		return flowNext, nil
	}
	return flowNext, st.action(f, o)
}

// include runs an included script (RFC 6609 §3.2): its stop ends
// everything, its return only itself.
func (st *state) include(f *frame, o *op) (flow, error) {
	inc := f.s.includes[o.include]
	if inc == nil {
		return flowNext, nil // :optional and missing
	}
	if o.has("once") {
		if st.onceDone[inc] {
			return flowNext, nil
		}
		st.onceDone[inc] = true
	}
	fl, err := st.runScript(inc)
	if fl == flowReturn {
		fl = flowNext
	}
	return fl, err
}

// result turns the state into the Result (RFC 5228 §2.10.2, §2.10.3).
func (st *state) result() *Result {
	r := &Result{
		FileInto:         st.fileinto,
		Redirects:        st.redirects,
		Reject:           st.reject,
		Vacation:         st.vacation,
		Duplicates:       st.dupes,
		DuplicateExpires: st.dupExpires,
		Log:              st.log,
	}
	switch {
	case st.explicitKeep:
		r.Keep, r.KeepFlags = true, st.keepFlags
	case st.implicitKeep:
		r.Keep, r.KeepFlags = true, append([]string(nil), st.flags...)
		st.logf("implicit keep")
		r.Log = st.log
	}
	// A fileinto "INBOX" and a keep store one copy (RFC 5228 §2.10.3).
	if r.Keep {
		kept := r.FileInto[:0:0]
		for _, fi := range r.FileInto {
			if strings.EqualFold(fi.Mailbox, "INBOX") {
				r.KeepFlags = unionFlags(r.KeepFlags, fi.Flags)
				continue
			}
			kept = append(kept, fi)
		}
		r.FileInto = kept
	}
	r.Discarded = st.discarded && !r.Keep && len(r.FileInto) == 0 && len(r.Redirects) == 0
	if st.edited {
		var b strings.Builder
		for _, fl := range st.fields {
			b.WriteString(fl.raw)
		}
		b.WriteString("\r\n")
		r.Header = []byte(b.String())
	}
	return r
}
