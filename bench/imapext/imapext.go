// Package imapext measures the IMAP extensions webmails and phones lean
// on, against Surat and Dovecot side by side in one run, both over
// implicit TLS, on the same mailbox (Corpus: Messages messages in
// threads):
//
//   - QRESYNC resync (RFC 7162 §3.2.5): a client that knows the mailbox
//     (UIDVALIDITY, HIGHESTMODSEQ, its UIDs) reconnects after another
//     client changed the flags of FlagChanges messages and expunged
//     Expunges: `ENABLE QRESYNC` and `SELECT INBOX (QRESYNC (uidvalidity
//     modseq 1:maxuid))`, timed from the ENABLE to SELECT's tagged OK, with
//     the IMAP bytes both ways. Beside it the resync without CONDSTORE a
//     client does otherwise: SELECT and `UID FETCH 1:* (FLAGS)`.
//   - `UID SORT (DATE) UTF-8 ALL` (RFC 5256 §3).
//   - `UID THREAD REFERENCES UTF-8 ALL` (RFC 5256 §3): the number of
//     threads found is reported for both servers, as a check that they
//     agree; WriteThreadDiff compares the trees themselves, by Message-ID.
//     The resync cases change the same messages on both (chosen by
//     Message-ID, as UIDs differ), so that THREAD sees the same mailbox.
//
// A capability the server does not advertise is reported "not supported"
// and skipped. Each case runs Rounds times after one warm-up; the median
// is the figure. Nothing asserts a time: a run fails only when a server
// answers wrongly (a NO, a resync that misses the changes).
//
// bench/cmd/imapext is the command (`make bench-imapext`).
package imapext

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Config is one measurement of one server.
type Config struct {
	Label      string // "surat", "dovecot"
	Addr       string // implicit TLS
	User, Pass string
	Rounds     int
	// FlagChanges and Expunges are what the other client does before each
	// resync (defaults 100 and 10).
	FlagChanges, Expunges int
	Log                   func(format string, args ...any)

	// ids maps the mailbox's UIDs to Message-IDs, read once before the
	// cases (mutate draws messages in Message-ID order).
	ids map[uint32]string
}

// Record is one timed run of one case, one JSON line.
type Record struct {
	Server    string    `json:"server"`
	Case      string    `json:"case"` // qresync, plain-resync, sort-date, thread-references
	Supported bool      `json:"supported"`
	Round     int       `json:"round,omitempty"` // 0: the warm-up (not in medians)
	Started   time.Time `json:"started"`
	Messages  int       `json:"messages"` // in the mailbox when measured
	Seconds   float64   `json:"seconds,omitempty"`
	BytesIn   int64     `json:"bytes_in,omitempty"`  // server to client
	BytesOut  int64     `json:"bytes_out,omitempty"` // client to server
	// Items: FETCH responses of a resync, UIDs sorted, threads found.
	Items int `json:"items,omitempty"`
	// Vanished is how many UIDs a QRESYNC SELECT reported VANISHED.
	Vanished int `json:"vanished,omitempty"`
}

// The cases, in report order, and the capability each needs.
var Cases = []struct{ Name, Capability, Title string }{
	{"qresync", "QRESYNC", "QRESYNC resync (ENABLE + SELECT … QRESYNC)"},
	{"plain-resync", "", "resync without CONDSTORE (SELECT + UID FETCH 1:* (FLAGS))"},
	{"sort-date", "SORT", "UID SORT (DATE) UTF-8 ALL"},
	{"thread-references", "THREAD=REFERENCES", "UID THREAD REFERENCES UTF-8 ALL"},
}

// Run measures every case on cfg's server and calls emit with each record.
func Run(ctx context.Context, cfg Config, emit func(Record) error) error {
	logf := cfg.Log
	if logf == nil {
		logf = func(string, ...any) {}
	}
	if cfg.FlagChanges == 0 {
		cfg.FlagChanges = 100
	}
	if cfg.Expunges == 0 {
		cfg.Expunges = 10
	}
	cl, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
	if err != nil {
		return err
	}
	defer cl.Close()
	caps, err := cl.Capabilities()
	if err != nil {
		return err
	}
	if cfg.ids, err = messageIDs(ctx, cfg); err != nil {
		return err
	}
	for _, c := range Cases {
		if c.Capability != "" && !caps[c.Capability] {
			logf("%s: %s not advertised: %s not supported", cfg.Label, c.Capability, c.Name)
			if err := emit(Record{Server: cfg.Label, Case: c.Name, Started: time.Now().UTC()}); err != nil {
				return err
			}
			if c.Name == "qresync" {
				// Its changes still happen, so that the cases after it
				// meet the same mailbox on every server.
				rng := rand.New(rand.NewPCG(1, 7162))
				for range cfg.Rounds + 1 {
					if err := mutate(ctx, cfg, rng); err != nil {
						return fmt.Errorf("%s %s: %w", cfg.Label, c.Name, err)
					}
				}
			}
			continue
		}
		var err error
		switch c.Name {
		case "qresync":
			err = runQresync(ctx, cfg, emit)
		case "plain-resync":
			err = runPlainResync(ctx, cfg, emit)
		default:
			err = runCommand(ctx, cfg, c.Name, emit)
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", cfg.Label, c.Name, err)
		}
	}
	return nil
}

// mailboxState is what a resyncing client remembers.
type mailboxState struct {
	uidValidity, highestModseq string
	exists                     int
	maxUID                     uint32
}

// selectState reads a SELECT's UIDVALIDITY, HIGHESTMODSEQ, EXISTS and
// UIDNEXT.
func selectState(lines []string) mailboxState {
	var s mailboxState
	s.uidValidity = code(lines, "UIDVALIDITY")
	s.highestModseq = code(lines, "HIGHESTMODSEQ")
	if n, err := strconv.ParseUint(code(lines, "UIDNEXT"), 10, 32); err == nil && n > 0 {
		s.maxUID = uint32(n - 1)
	}
	for _, l := range lines {
		if f := strings.Fields(l); len(f) == 3 && strings.EqualFold(f[2], "EXISTS") {
			s.exists, _ = strconv.Atoi(f[1])
		}
	}
	return s
}

// mutate is the other client's work before a resync: FlagChanges
// messages flagged or unflagged (one UID STORE, among the messages that
// change: the unflagged ones or the flagged ones, whichever are more) and
// Expunges others of them expunged (UID STORE \Deleted, UID EXPUNGE),
// chosen by rng from the candidates in Message-ID order (cfg.ids), not
// UID order, so that both servers change the same messages: UIDs name
// different messages on each (Surat is filled over several connections at
// once, Dovecot's Maildir in corpus order), and with the choice made by
// UID the two mailboxes THREAD later sees held different messages (120
// different ones expunged: 4,004 threads against 3,990 in one run).
func mutate(ctx context.Context, cfg Config, rng *rand.Rand) error {
	m, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
	if err != nil {
		return err
	}
	defer m.Close()
	if _, err := m.OK("SELECT INBOX"); err != nil {
		return err
	}
	search := func(key string) ([]string, error) {
		u, err := m.OK("UID SEARCH " + key)
		var uids []string
		for _, l := range u {
			if f := strings.Fields(l); len(f) >= 2 && strings.EqualFold(f[1], "SEARCH") {
				uids = append(uids, f[2:]...)
			}
		}
		return uids, err
	}
	uids, err := search("UNFLAGGED")
	if err != nil {
		return err
	}
	op := "+FLAGS.SILENT"
	if flagged, err := search("FLAGGED"); err != nil {
		return err
	} else if len(flagged) > len(uids) {
		uids, op = flagged, "-FLAGS.SILENT"
	}
	if len(uids) < cfg.FlagChanges+cfg.Expunges {
		return fmt.Errorf("mailbox has %d messages to change, fewer than %d", len(uids), cfg.FlagChanges+cfg.Expunges)
	}
	slices.SortFunc(uids, func(a, b string) int {
		return strings.Compare(cfg.ids[parseUID(a)], cfg.ids[parseUID(b)])
	})
	rng.Shuffle(len(uids), func(i, j int) { uids[i], uids[j] = uids[j], uids[i] })
	flag := strings.Join(uids[:cfg.FlagChanges], ",")
	gone := strings.Join(uids[cfg.FlagChanges:cfg.FlagChanges+cfg.Expunges], ",")
	if _, err := m.OK("UID STORE " + flag + " " + op + " (\\Flagged)"); err != nil {
		return err
	}
	if _, err := m.OK("UID STORE " + gone + " +FLAGS.SILENT (\\Deleted)"); err != nil {
		return err
	}
	_, err = m.OK("UID EXPUNGE " + gone)
	return err
}

// messageIDs maps the UIDs of cfg's INBOX to their Message-IDs.
func messageIDs(ctx context.Context, cfg Config) (map[uint32]string, error) {
	c, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	if _, err := c.OK("EXAMINE INBOX"); err != nil {
		return nil, err
	}
	lines, err := c.OK("UID FETCH 1:* (UID BODY.PEEK[HEADER.FIELDS (MESSAGE-ID)])")
	if err != nil {
		return nil, err
	}
	ids := make(map[uint32]string, len(lines))
	for _, l := range lines {
		if uid, ok := fetchUID(l); ok {
			ids[uid] = headerValue(l, "Message-ID")
		}
	}
	return ids, nil
}

func runQresync(ctx context.Context, cfg Config, emit func(Record) error) error {
	rng := rand.New(rand.NewPCG(1, 7162))
	c, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
	if err != nil {
		return err
	}
	if _, err := c.OK("ENABLE QRESYNC"); err != nil {
		c.Close()
		return err
	}
	sel, err := c.OK("SELECT INBOX (CONDSTORE)")
	c.Close()
	if err != nil {
		return err
	}
	state := selectState(sel)
	for round := 0; round <= cfg.Rounds; round++ {
		if err := mutate(ctx, cfg, rng); err != nil {
			return err
		}
		c, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
		if err != nil {
			return err
		}
		in0, out0 := c.Bytes()
		start := time.Now()
		if _, err := c.OK("ENABLE QRESYNC"); err != nil {
			c.Close()
			return err
		}
		lines, err := c.OK(fmt.Sprintf("SELECT INBOX (QRESYNC (%s %s 1:%d))", state.uidValidity, state.highestModseq, state.maxUID))
		secs := time.Since(start).Seconds()
		in1, out1 := c.Bytes()
		c.Close()
		if err != nil {
			return err
		}
		fetches, vanished := 0, 0
		for _, l := range lines {
			f := strings.Fields(l)
			if len(f) >= 3 && strings.EqualFold(f[2], "FETCH") {
				fetches++
			}
			if len(f) >= 4 && strings.EqualFold(f[1], "VANISHED") {
				vanished += countUIDs(f[len(f)-1])
			}
		}
		if fetches < cfg.FlagChanges || vanished < cfg.Expunges {
			return fmt.Errorf("round %d: the resync reported %d FETCH and %d VANISHED UIDs, want at least %d and %d",
				round, fetches, vanished, cfg.FlagChanges, cfg.Expunges)
		}
		next := selectState(lines)
		if err := emit(Record{Server: cfg.Label, Case: "qresync", Supported: true, Round: round, Started: start.UTC(),
			Messages: next.exists, Seconds: secs, BytesIn: in1 - in0, BytesOut: out1 - out0, Items: fetches, Vanished: vanished}); err != nil {
			return err
		}
		state = next
	}
	return nil
}

func runPlainResync(ctx context.Context, cfg Config, emit func(Record) error) error {
	rng := rand.New(rand.NewPCG(2, 3501))
	for round := 0; round <= cfg.Rounds; round++ {
		if err := mutate(ctx, cfg, rng); err != nil {
			return err
		}
		c, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
		if err != nil {
			return err
		}
		in0, out0 := c.Bytes()
		start := time.Now()
		sel, err := c.OK("SELECT INBOX")
		var lines []string
		if err == nil {
			lines, err = c.OK("UID FETCH 1:* (FLAGS)")
		}
		secs := time.Since(start).Seconds()
		in1, out1 := c.Bytes()
		c.Close()
		if err != nil {
			return err
		}
		st := selectState(sel)
		if err := emit(Record{Server: cfg.Label, Case: "plain-resync", Supported: true, Round: round, Started: start.UTC(),
			Messages: st.exists, Seconds: secs, BytesIn: in1 - in0, BytesOut: out1 - out0, Items: len(lines)}); err != nil {
			return err
		}
	}
	return nil
}

// runCommand times SORT or THREAD on one selected session.
func runCommand(ctx context.Context, cfg Config, name string, emit func(Record) error) error {
	cmd := map[string]string{
		"sort-date":         "UID SORT (DATE) UTF-8 ALL",
		"thread-references": "UID THREAD REFERENCES UTF-8 ALL",
	}[name]
	c, err := Dial(ctx, cfg.Addr, cfg.User, cfg.Pass)
	if err != nil {
		return err
	}
	defer c.Close()
	sel, err := c.OK("SELECT INBOX")
	if err != nil {
		return err
	}
	exists := selectState(sel).exists
	for round := 0; round <= cfg.Rounds; round++ {
		in0, out0 := c.Bytes()
		start := time.Now()
		lines, err := c.OK(cmd)
		secs := time.Since(start).Seconds()
		in1, out1 := c.Bytes()
		if err != nil {
			return err
		}
		items := 0
		for _, l := range lines {
			f := strings.Fields(l)
			switch {
			case len(f) >= 2 && strings.EqualFold(f[1], "SORT"):
				items += len(f) - 2
			case len(f) >= 2 && strings.EqualFold(f[1], "THREAD"):
				items += countThreads(l)
			}
		}
		if name == "sort-date" && items != exists {
			return fmt.Errorf("SORT returned %d UIDs of %d messages", items, exists)
		}
		if err := emit(Record{Server: cfg.Label, Case: name, Supported: true, Round: round, Started: start.UTC(),
			Messages: exists, Seconds: secs, BytesIn: in1 - in0, BytesOut: out1 - out0, Items: items}); err != nil {
			return err
		}
	}
	return nil
}

// parseUID is a UID of a SEARCH answer, 0 if it is none.
func parseUID(s string) uint32 {
	n, _ := strconv.ParseUint(s, 10, 32)
	return uint32(n)
}

// countUIDs counts the UIDs of a sequence set such as 3:5,9.
func countUIDs(set string) int {
	n := 0
	for _, r := range strings.Split(strings.Trim(set, "()"), ",") {
		lo, hi, found := strings.Cut(r, ":")
		a, err1 := strconv.Atoi(lo)
		if !found {
			if err1 == nil {
				n++
			}
			continue
		}
		b, err2 := strconv.Atoi(hi)
		if err1 != nil || err2 != nil {
			continue
		}
		if a > b {
			a, b = b, a
		}
		n += b - a + 1
	}
	return n
}

// countThreads counts the top-level threads of a THREAD response: the
// parenthesised lists at depth one.
func countThreads(l string) int {
	depth, n := 0, 0
	for i := 0; i < len(l); i++ {
		switch l[i] {
		case '(':
			if depth == 0 {
				n++
			}
			depth++
		case ')':
			if depth > 0 {
				depth--
			}
		}
	}
	return n
}
