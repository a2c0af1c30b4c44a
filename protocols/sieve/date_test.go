package sieve

import (
	"testing"
	"time"
)

// TestDate: RFC 5260 §4: the date test, zones and date parts.
func TestDate(t *testing.T) {
	req := `"date", "relational"`
	for _, c := range []struct {
		test string
		want bool
	}{
		// Date: Tue, 01 Dec 2026 09:30:00 -0500; Env.Now's zone is UTC.
		{`date :is "date" "date" "2026-12-01"`, true},
		{`date :is "date" "hour" "14"`, true},
		{`date :originalzone :is "date" "hour" "09"`, true},
		{`date :originalzone :is "date" "zone" "-0500"`, true},
		{`date :zone "+0100" :is "date" "time" "15:30:00"`, true},
		{`date :zone "-1200" :is "date" "date" "2026-12-01"`, true},
		{`date :is "date" "year" "2026"`, true},
		{`date :is "date" "month" "12"`, true},
		{`date :is "date" "day" "01"`, true},
		{`date :is "date" "minute" "30"`, true},
		{`date :is "date" "second" "00"`, true},
		{`date :is "date" "weekday" "2"`, true},
		{`date :is "date" "iso8601" "2026-12-01T14:30:00+00:00"`, true},
		{`date :is "date" "std11" "Tue, 01 Dec 2026 14:30:00 +0000"`, true},
		{`date :value "ge" "date" "date" "2026-01-01"`, true},
		{`date :value "lt" "date" "date" "2026-01-01"`, false},
		{`date :is "x-missing" "year" "2026"`, false},
		{`date :is "subject" "year" "2026"`, false},
		// Received: the date after the last ";".
		{`date :is "received" "date" "2026-12-01"`, true},
	} {
		if got := holds(t, req, c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}

// TestCurrentdate: RFC 5260 §5, against Env.Now.
func TestCurrentdate(t *testing.T) {
	req := `"date", "relational"`
	for _, c := range []struct {
		test string
		want bool
	}{
		{`currentdate :is "date" "2026-12-02"`, true},
		{`currentdate :is "weekday" "3"`, true},
		{`currentdate :is "julian" "61376"`, true},
		{`currentdate :zone "+0930" :is "time" "00:00:00"`, true},
		{`currentdate :zone "+0930" :is "date" "2026-12-03"`, true},
		{`currentdate :value "ge" "date" "2026-12-01"`, true},
		{`allof (currentdate :value "ge" "date" "2026-12-01", currentdate :value "le" "date" "2026-12-31")`, true},
	} {
		if got := holds(t, req, c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
	// A local zone from Env.Now.
	env := testEnv()
	env.Now = env.Now.In(time.FixedZone("X", 2*3600))
	if !holdsOn(t, `"date"`, `currentdate :is "hour" "16"`, testMessage, env) {
		t.Error("currentdate ignores Env.Now's zone")
	}
}

func TestDateErrors(t *testing.T) {
	compileErr(t, `require "date"; if date :is "date" "century" "21" { keep; }`)
	compileErr(t, `require "date"; if date :zone "CET" :is "date" "year" "2026" { keep; }`)
	compileErr(t, `require "date"; if date :zone "+0100" :originalzone "date" "year" "2026" { keep; }`)
	compileErr(t, `if currentdate "year" "2026" { keep; }`)
}

// TestIndex: RFC 5260 §6: :index and :last on header, address, date.
func TestIndex(t *testing.T) {
	msg := "Received: from a; Tue, 01 Dec 2026 10:00:00 +0000\r\n" +
		"Received: from b; Mon, 30 Nov 2026 10:00:00 +0000\r\n" +
		"Received: from c; Sun, 29 Nov 2026 10:00:00 +0000\r\n" +
		"To: one@x.test\r\nTo: two@x.test\r\n\r\n"
	req := `"index", "date"`
	for _, c := range []struct {
		test string
		want bool
	}{
		{`header :index 1 :contains "received" "from a"`, true},
		{`header :index 2 :contains "received" "from a"`, false},
		{`header :index 1 :last :contains "received" "from c"`, true},
		{`header :index 4 :contains "received" "from"`, false},
		{`address :index 2 :is "to" "two@x.test"`, true},
		{`address :index 2 :is "to" "one@x.test"`, false},
		{`date :index 1 :last :is "received" "date" "2026-11-29"`, true},
		{`date :index 2 :is "received" "date" "2026-11-30"`, true},
	} {
		if got := holdsOn(t, req, c.test, msg, testEnv()); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
	compileErr(t, `require "index"; if header :last :is "a" "b" { keep; }`)
	compileErr(t, `require "index"; if header :index 0 :is "a" "b" { keep; }`)
	compileErr(t, `if header :index 1 :is "a" "b" { keep; }`)
}
