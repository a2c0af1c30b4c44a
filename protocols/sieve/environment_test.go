package sieve

import "testing"

// TestEnvironment: RFC 5183 §4.
func TestEnvironment(t *testing.T) {
	env := testEnv()
	env.Environment = map[string]string{"domain": "example.com", "host": "mx1.example.com", "remote-ip": "192.0.2.1"}
	for _, c := range []struct {
		test string
		want bool
	}{
		{`environment :is "name" "Surat"`, true},
		{`environment :is "location" "MDA"`, true},
		{`environment :is "phase" "during"`, true},
		{`environment :contains "version" ""`, true},
		{`environment :is "domain" "example.com"`, true},
		{`environment :matches "host" "mx?.*"`, true},
		{`environment :is "remote-ip" "192.0.2.1"`, true},
		{`environment :matches "remote-host" "*"`, false}, // unknown item
		{`environment :is "NAME" "surat"`, true},
	} {
		if got := holdsOn(t, `"environment"`, c.test, testMessage, env); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}
