package filter

import (
	"reflect"
	"testing"

	"github.com/surat-mail/surat/protocols/pipeline"
	"github.com/surat-mail/surat/protocols/sieve"
)

// The administrators' scripts run before the user's, as Pigeonhole's
// sieve_before: global, domain, then the user's; their actions add up
// while the implicit keep holds.
func TestBeforeScriptsRunFirstAndAddUp(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	var order []string
	step := func(name string, res sieve.Result) {
		h.interp.def(name, func(sieve.Message, sieve.Env) (*sieve.Result, error) {
			order = append(order, name)
			r := res
			return &r, nil
		})
	}
	step("global", sieve.Result{Keep: true, FileInto: []sieve.FileInto{{Mailbox: "Audit"}}})
	step("domain", sieve.Result{Keep: true, KeepFlags: []string{"$domain"}})
	step("user", sieve.Result{Keep: true, Redirects: []string{"me@remote.test"}})
	h.store.put(GlobalOwner, "g", "global")
	h.store.put(DomainOwner("EXAMPLE.com"), "d", "domain")
	h.store.put(DomainOwner("other.test"), "d", "unused")
	h.store.put(alice, "u", "user")
	res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"global", "domain", "user"}; !reflect.DeepEqual(order, want) {
		t.Fatalf("order %q, want %q", order, want)
	}
	want := pipeline.RecipientOutcome{
		Filings:   []pipeline.Filing{{}, {Mailbox: "Audit"}}, // the user's keep has no flags: its own decides
		Redirects: []string{"me@remote.test"},
	}
	if got := res.Recipients[alice]; !reflect.DeepEqual(got, want) {
		t.Fatalf("outcome\n got %+v\nwant %+v", got, want)
	}
}

// A before-script that cancels the implicit keep ends the sequence: the
// user's script does not run (Pigeonhole's multiscript rule).
func TestBeforeScriptCancellingKeepEndsSequence(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	ran := false
	h.interp.result("quarantine", sieve.Result{FileInto: []sieve.FileInto{{Mailbox: "Quarantine", Create: true}}})
	h.interp.def("user", func(sieve.Message, sieve.Env) (*sieve.Result, error) {
		ran = true
		return &sieve.Result{Discarded: true}, nil
	})
	h.store.put(DomainOwner("example.com"), "q", "quarantine")
	h.store.put(alice, "u", "user")
	res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if ran {
		t.Fatal("the user's script ran after the domain's cancelled the keep")
	}
	if got := res.Recipients[alice].Filings; len(got) != 1 || got[0].Mailbox != "Quarantine" || !got[0].Create {
		t.Fatalf("filings %+v", got)
	}
}

// The domain's script is read once per message, whatever the number of
// its recipients.
func TestDomainScriptReadOnce(t *testing.T) {
	h := newHarness(t)
	h.interp.result("d", sieve.Result{Keep: true})
	h.store.put(DomainOwner("example.com"), "d", "d")
	local := []string{"a@example.com", "b@example.com", "c@example.com"}
	if _, err := h.deliver(t, mxEnv("s@remote.test", local...), testMessage); err != nil {
		t.Fatal(err)
	}
	// global once, the domain once, each user once.
	if want := 1 + 1 + len(local); h.store.reads != want {
		t.Fatalf("%d reads, want %d", h.store.reads, want)
	}
	if h.interp.compiled != 1 {
		t.Fatalf("compiled %d times", h.interp.compiled)
	}
}

// `surat user forward`: a redirect, with keep a redirect :copy; it acts
// after the administrators' scripts and before the user's, which runs only
// when a copy is kept.
func TestForwarding(t *testing.T) {
	const alice = "alice@example.com"
	for _, keep := range []bool{false, true} {
		h := newHarness(t)
		ran := false
		h.interp.def("user", func(sieve.Message, sieve.Env) (*sieve.Result, error) {
			ran = true
			return &sieve.Result{Keep: true, FileInto: []sieve.FileInto{{Mailbox: "Fwd"}}}, nil
		})
		h.store.put(alice, "u", "user")
		h.store.forward[alice] = forward{to: []string{"alice@elsewhere.test"}, keep: keep}
		res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
		if err != nil {
			t.Fatal(err)
		}
		got := res.Recipients[alice]
		if !reflect.DeepEqual(got.Redirects, []string{"alice@elsewhere.test"}) {
			t.Fatalf("keep %v: redirects %q", keep, got.Redirects)
		}
		if ran != keep {
			t.Fatalf("keep %v: the user's script ran: %v", keep, ran)
		}
		if keep && len(got.Filings) != 2 {
			t.Fatalf("keep: filings %+v", got.Filings)
		}
		if !keep && !got.Discard {
			t.Fatalf("no keep: a local copy is filed: %+v", got)
		}
	}
	// Forwarding alone, no script at all.
	h := newHarness(t)
	h.store.forward[alice] = forward{to: []string{"x@remote.test", "y@remote.test"}, keep: true}
	res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Recipients[alice]; len(got.Redirects) != 2 || got.Discard || got.Filings != nil {
		t.Fatalf("forwarding alone: %+v", got)
	}
}

// editheader (RFC 5293): the next script sees the edited header, and the
// outcome's Header is the message's own block as edited, without the
// earlier checks' fields (stored on top anyway).
func TestEditedHeader(t *testing.T) {
	const alice = "alice@example.com"
	h := newHarness(t)
	const ar = "Authentication-Results: mx; spf=pass\r\n"
	h.interp.def("global", func(msg sieve.Message, _ sieve.Env) (*sieve.Result, error) {
		return &sieve.Result{Keep: true, Header: append([]byte("X-Global: 1\r\n"), msg.Header...)}, nil
	})
	var seen string
	h.interp.def("user", func(msg sieve.Message, _ sieve.Env) (*sieve.Result, error) {
		seen = string(msg.Header)
		return &sieve.Result{Keep: true, Header: append([]byte("X-User: 2\r\n"), msg.Header...)}, nil
	})
	h.store.put(GlobalOwner, "g", "global")
	h.store.put(alice, "u", "user")
	res, err := h.deliver(t, mxEnv("s@remote.test", alice), testMessage, prependCheck{fields: ar})
	if err != nil {
		t.Fatal(err)
	}
	own, _, _ := stringsCut(testMessage, "\r\n\r\n")
	if want := "X-Global: 1\r\n" + ar + own + "\r\n\r\n"; seen != want {
		t.Fatalf("the user's script saw\n%q\nwant\n%q", seen, want)
	}
	if got, want := string(res.Recipients[alice].Header), "X-User: 2\r\nX-Global: 1\r\n"+own+"\r\n\r\n"; got != want {
		t.Fatalf("header\n%q\nwant\n%q", got, want)
	}
	if res.Recipients[alice].Filings != nil {
		t.Fatalf("filings %+v for a keep", res.Recipients[alice].Filings)
	}
}
