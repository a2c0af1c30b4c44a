package sieve

import "testing"

// TestRelational: RFC 5231 §4: :value and :count with every operator.
func TestRelational(t *testing.T) {
	req := `"relational", "comparator-i;ascii-numeric"`
	for _, c := range []struct {
		test string
		want bool
	}{
		{`header :count "eq" :comparator "i;ascii-numeric" "x-multi" "2"`, true},
		{`header :count "gt" :comparator "i;ascii-numeric" "x-multi" "1"`, true},
		{`header :count "lt" :comparator "i;ascii-numeric" "x-multi" "2"`, false},
		{`header :count "ne" :comparator "i;ascii-numeric" "x-missing" "0"`, false},
		{`header :count "eq" :comparator "i;ascii-numeric" ["x-multi", "subject"] "3"`, true},
		{`address :count "eq" :comparator "i;ascii-numeric" ["to", "cc"] "3"`, true},
		{`header :value "gt" "subject" "[a"`, true},
		{`header :value "lt" "subject" "[a"`, false},
		{`header :value "ge" "x-multi" "two"`, true},
		{`header :value "le" "x-multi" "one"`, true},
		{`header :value "eq" "x-multi" "TWO"`, true},
		{`header :value "ne" "x-multi" "one"`, true}, // "two" ≠ "one"
		{`header :value "EQ" :comparator "i;octet" "x-multi" "TWO"`, false},
	} {
		if got := holds(t, req, c.test); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}

func TestRelationalErrors(t *testing.T) {
	compileErr(t, `require "relational"; if header :value "around" "a" "b" { keep; }`)
	compileErr(t, `if header :value "eq" "a" "b" { keep; }`)
	compileErr(t, `require "relational"; if header :count "a" "b" { keep; }`)
}
