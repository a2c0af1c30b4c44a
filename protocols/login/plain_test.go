package login

import "testing"

func TestPlainCredentials(t *testing.T) {
	for _, tc := range []struct {
		msg, name, password string
	}{
		{"\x00alice@example.org\x00secret", "alice@example.org", "secret"},
		{"alice@example.org\x00alice@example.org\x00pw", "alice@example.org", "pw"},
		{"Alice@Example.org\x00alice@example.org\x00pw", "alice@example.org", "pw"}, // one account
		{"\x00alice@example.org\x00", "alice@example.org", ""},
		{"bob@example.org\x00alice@example.org\x00pw", "", ""}, // acting as another
		{"\x00\x00pw", "", ""},                  // no authcid
		{"alice@example.org\x00pw", "", ""},     // two parts
		{"\x00a@example.org\x00p\x00w", "", ""}, // four parts
		{"", "", ""},
	} {
		name, password := PlainCredentials([]byte(tc.msg))
		if name != tc.name || password != tc.password {
			t.Errorf("PlainCredentials(%q) = %q, %q; want %q, %q", tc.msg, name, password, tc.name, tc.password)
		}
	}
}

func FuzzPlainCredentials(f *testing.F) {
	f.Add([]byte("\x00alice@example.org\x00secret"))
	f.Add([]byte("bob@example.org\x00alice@example.org\x00pw"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		name, password := PlainCredentials(msg)
		if name == "" && password != "" {
			t.Fatalf("PlainCredentials(%q): a password without a name", msg)
		}
	})
}
