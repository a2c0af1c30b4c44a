package sieve

import "testing"

// TestSubaddress: RFC 5233 §4: :user and :detail with "+".
func TestSubaddress(t *testing.T) {
	for _, c := range []struct {
		test string
		want bool
	}{
		{`envelope :user :is "to" "bob"`, true},
		{`envelope :detail :is "to" "lists"`, true},
		{`address :user :is "to" "bob"`, true},
		{`address :detail :is "to" "lists"`, true},
		{`address :user :is "to" "carol"`, true},
		// No separator: :detail matches nothing, not even "" or "*".
		{`address :detail :matches "from" "*"`, false},
		{`envelope :detail :is "from" ""`, false},
		{`envelope :user :is "from" "alice"`, true},
	} {
		if got := holds(t, `"envelope", "subaddress"`, c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
	env := testEnv()
	env.To = "bob+@example.com"
	if !holdsOn(t, `"envelope", "subaddress"`, `envelope :detail :is "to" ""`, testMessage, env) {
		t.Error("an empty detail after the separator is \"\"")
	}
	compileErr(t, `require "envelope"; if envelope :user "to" "x" { keep; }`)
}
