package sieve

import (
	"context"
	"slices"
	"testing"
	"time"
)

// TestVacation: RFC 5230 §4 and RFC 6131: the action's arguments reach
// the Result; sending is the caller's.
func TestVacation(t *testing.T) {
	r := run(t, `require "vacation";
vacation :days 3 :subject "Away" :from "bob@example.com" :addresses ["bobby@example.com", "bob@example.com"] :handle "h1" "I am away.";`)
	v := r.Vacation
	if v == nil {
		t.Fatal("no vacation")
	}
	if v.Reason != "I am away." || v.Subject != "Away" || v.From != "bob@example.com" || v.Handle != "h1" || v.Mime {
		t.Errorf("vacation %+v", v)
	}
	if v.Period != 3*24*time.Hour {
		t.Errorf("period %v", v.Period)
	}
	if !slices.Equal(v.Addresses, []string{"bobby@example.com", "bob@example.com"}) {
		t.Errorf("addresses %q", v.Addresses)
	}
	// Vacation does not cancel the implicit keep (RFC 5230 §4.7).
	if !r.Keep {
		t.Error("vacation cancelled the keep")
	}
}

func TestVacationPeriod(t *testing.T) {
	for _, c := range []struct {
		args string
		want time.Duration
	}{
		{``, 7 * 24 * time.Hour},
		{`:days 0`, 24 * time.Hour},
		{`:days 90`, 30 * 24 * time.Hour},
		{`:seconds 3600`, time.Hour},
		{`:seconds 0`, time.Second},
	} {
		r := run(t, `require ["vacation", "vacation-seconds"]; vacation `+c.args+` "away";`)
		if r.Vacation.Period != c.want {
			t.Errorf("%s: %v, want %v", c.args, r.Vacation.Period, c.want)
		}
	}
	compileErr(t, `require "vacation"; vacation :seconds 60 "away";`)
	compileErr(t, `require ["vacation", "vacation-seconds"]; vacation :days 1 :seconds 60 "away";`)
	compileErr(t, `require "vacation"; vacation :from "nobody" "away";`)
}

// TestVacationHandle: RFC 5230 §4.2: without :handle, the same
// arguments give the same handle and different reasons different ones.
func TestVacationHandle(t *testing.T) {
	a := run(t, `require "vacation"; vacation "one";`).Vacation.Handle
	b := run(t, `require "vacation"; vacation "one";`).Vacation.Handle
	c := run(t, `require "vacation"; vacation "two";`).Vacation.Handle
	if a == "" || a != b || a == c {
		t.Fatalf("handles %q %q %q", a, b, c)
	}
}

// TestVacationMime: :mime and the user's addresses from Env.
func TestVacationMime(t *testing.T) {
	env := testEnv()
	env.Addresses = []string{"bob@example.com", "robert@example.com"}
	r := runOn(t, `require "vacation"; vacation :mime text:
Content-Type: text/plain; charset=utf-8

Away.
.
;`, testMessage, env)
	if !r.Vacation.Mime || r.Vacation.Reason != "Content-Type: text/plain; charset=utf-8\n\nAway.\n" {
		t.Fatalf("%+v", r.Vacation)
	}
	if !slices.Equal(r.Vacation.Addresses, []string{"bob@example.com", "robert@example.com"}) {
		t.Fatalf("addresses %q", r.Vacation.Addresses)
	}
	s, _ := Compile([]byte(`require "vacation"; vacation "a"; vacation "b";`), Options{})
	if _, err := s.Execute(context.Background(), splitMessage(testMessage), env); err == nil {
		t.Fatal("two vacations ran")
	}
}
