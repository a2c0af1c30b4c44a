package sieve

import "testing"

func intp(n int) *int { return &n }

// TestSpamtest: RFC 5235: scores compare as numbers; "0" when not
// tested; :percent with spamtestplus.
func TestSpamtest(t *testing.T) {
	env := testEnv()
	env.SpamScore, env.SpamPercent, env.VirusScore = intp(7), intp(65), intp(1)
	req := `"spamtest", "virustest", "relational"`
	for _, c := range []struct {
		test string
		env  Env
		want bool
	}{
		{`spamtest :value "ge" "6"`, env, true},
		{`spamtest :value "ge" "10"`, env, false}, // numeric, not "7" >= "10" as text
		{`spamtest :is "7"`, env, true},
		{`virustest :value "eq" "1"`, env, true},
		{`virustest :value "gt" "3"`, env, false},
		{`spamtest :is "0"`, testEnv(), true},
		{`virustest :is "0"`, testEnv(), true},
		{`spamtest :count "eq" :comparator "i;ascii-numeric" "1"`, env, true},
	} {
		if got := holdsOn(t, req, c.test, testMessage, c.env); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
	if !holdsOn(t, `"spamtestplus", "relational"`, `spamtest :percent :value "gt" "50"`, testMessage, env) {
		t.Error(":percent")
	}
	compileErr(t, `require "spamtest"; if spamtest :percent "5" { keep; }`)
	compileErr(t, `if spamtest "5" { keep; }`)
}
