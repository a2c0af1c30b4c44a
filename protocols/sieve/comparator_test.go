package sieve

import "testing"

// TestComparators: RFC 4790 §9 and RFC 5228 §2.7.3.
func TestComparators(t *testing.T) {
	for _, c := range []struct {
		cmp  comparator
		a, b string
		want int
	}{
		{cmpOctet, "a", "A", 1},
		{cmpOctet, "A", "A", 0},
		{cmpCasemap, "a", "A", 0},
		{cmpCasemap, "Straße", "STRAßE", 0},
		{cmpCasemap, "abc", "ABD", -1},
		{cmpCasemap, "ab", "ABC", -1},
		{cmpNumeric, "10", "9", 1},
		{cmpNumeric, "007", "7", 0},
		{cmpNumeric, "12abc", "12", 0},
		{cmpNumeric, "abc", "99999", 1}, // no digits: positive infinity
		{cmpNumeric, "abc", "xyz", 0},   // both infinite
		{cmpNumeric, "0", "", -1},
		{cmpNumeric, "123456789012345678901234567890", "99", 1},
	} {
		if got := c.cmp.compare(c.a, c.b); got != c.want {
			t.Errorf("%d compare(%q, %q) = %d, want %d", c.cmp, c.a, c.b, got, c.want)
		}
	}
}

func TestNumericComparatorScript(t *testing.T) {
	req := `"comparator-i;ascii-numeric", "relational"`
	msg := "X-Count: 42\r\nX-Text: abc\r\n\r\n"
	for _, c := range []struct {
		test string
		want bool
	}{
		{`header :is :comparator "i;ascii-numeric" "x-count" "042"`, true},
		{`header :value "gt" :comparator "i;ascii-numeric" "x-count" "9"`, true},
		{`header :value "gt" "x-count" "9"`, false}, // casemap: "4" < "9"
		{`header :value "gt" :comparator "i;ascii-numeric" "x-text" "99999"`, true},
	} {
		if got := holdsOn(t, req, c.test, msg, testEnv()); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}
