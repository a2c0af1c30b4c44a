package sieve

import "testing"

// TestEnvelope: RFC 5228 §5.4.
func TestEnvelope(t *testing.T) {
	null := testEnv()
	null.From = ""
	for _, c := range []struct {
		test string
		env  Env
		want bool
	}{
		{`envelope :is "from" "alice@example.org"`, testEnv(), true},
		{`envelope :domain :is "from" "EXAMPLE.org"`, testEnv(), true},
		{`envelope :localpart :is "to" "bob+lists"`, testEnv(), true},
		{`envelope :is "to" "bob@example.com"`, testEnv(), false},
		{`envelope :is ["to", "from"] "bob+lists@example.com"`, testEnv(), true},
		// The null reverse-path is "" whatever the address part.
		{`envelope :is "from" ""`, null, true},
		{`envelope :domain :is "from" ""`, null, true},
		{`envelope :matches "from" "*"`, null, true},
		{`envelope :matches "from" "?*"`, null, false},
	} {
		if got := holdsOn(t, `"envelope"`, c.test, testMessage, c.env); got != c.want {
			t.Errorf("%s (from %q) = %v, want %v", c.test, c.env.From, got, c.want)
		}
	}
}
