package admin

import "testing"

// TestCanonicalAddress: the admin API names accounts exactly as the login
// path does (protocols/address has the full table).
func TestCanonicalAddress(t *testing.T) {
	for in, want := range map[string]string{
		"  Alice.B+tag@Example.TEST. ": "alice.b+tag@example.test",
		"alice@bücher.example":         "alice@xn--bcher-kva.example",
		`"quoted"@example.test`:        "",
		"not-an-address":               "",
	} {
		got, err := CanonicalAddress(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("CanonicalAddress(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
