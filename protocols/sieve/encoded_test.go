package sieve

import "testing"

// TestEncodedCharacter: RFC 5228 §2.4.2.4.
func TestEncodedCharacter(t *testing.T) {
	for _, c := range []struct {
		in, want string
	}{
		{`${hex:40}`, "@"},
		{`a${hex: 40 41 }b`, "a@Ab"},
		{`${HEX:4041}`, "@A"},
		{`${unicode:40}`, "@"},
		{`${Unicode:e9 1F600}`, "é😀"},
		{`${hex:4}`, "${hex:4}"},
		{`${hex:zz}`, "${hex:zz}"},
		{`${hex:}`, "${hex:}"},
		{`${other:40}`, "${other:40}"},
		{`${hex:40`, "${hex:40"},
		{`$${hex:40}}`, "$@}"},
	} {
		got := filed(t, `require ["fileinto", "encoded-character"]; fileinto "`+c.in+`";`)
		if got != c.want {
			t.Errorf("%s: %q, want %q", c.in, got, c.want)
		}
	}
	// Without the require the text stays.
	if got := filed(t, `require "fileinto"; fileinto "${hex:40}";`); got != "${hex:40}" {
		t.Errorf("without require: %q", got)
	}
	compileErr(t, `require ["fileinto", "encoded-character"]; fileinto "${unicode:D800}";`)
	compileErr(t, `require ["fileinto", "encoded-character"]; fileinto "${unicode:110000}";`)
}
