package smtp

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSwaks sends through a real, independent SMTP client: swaks (Debian
// package swaks, installed by .ci/run), over STARTTLS with AUTH PLAIN and
// AUTH LOGIN on submission, and over STARTTLS on the MX. Where swaks is not
// installed the test skips, except under CI, where that is a failure.
func TestSwaks(t *testing.T) {
	swaks, err := exec.LookPath("swaks")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("swaks is not installed (.ci/run installs it)")
		}
		t.Skip("swaks not installed (apt-get install swaks)")
	}
	c := sharedCluster(t)
	n := c.Nodes[0]
	sender := uniqueAddress("swaks-sender")
	rcpt := uniqueAddress("swaks-rcpt")
	c.createUser(t, sender, "sender-password")
	c.createUser(t, rcpt, "rcpt-password")
	_, submission := c.serve(t, n, Submission, nil)
	_, mx := c.serve(t, n, MX, nil)

	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(swaks, args...)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			t.Fatalf("swaks %s: %v\n%s", strings.Join(args, " "), err, out.String())
		}
		return out.String()
	}
	cases := []struct {
		name, server, subject string
		extra                 []string
	}{
		{"submission AUTH PLAIN", submission, "swaks-plain", []string{"--auth", "PLAIN", "--auth-user", sender, "--auth-password", "sender-password"}},
		{"submission AUTH LOGIN", submission, "swaks-login", []string{"--auth", "LOGIN", "--auth-user", sender, "--auth-password", "sender-password"}},
		{"MX", mx, "swaks-mx", nil},
	}
	for _, tc := range cases {
		// --tls makes STARTTLS mandatory (swaks does not verify the
		// test's self-signed certificate).
		args := append([]string{"--server", tc.server, "--tls", "--from", sender, "--to", rcpt,
			"--h-Subject", tc.subject, "--body", "sent by swaks for " + tc.name, "--hide-informational"}, tc.extra...)
		out := run(args...)
		if !strings.Contains(out, "250 2.0.0") {
			t.Fatalf("%s: no 250 after DATA:\n%s", tc.name, out)
		}
	}
	bodies := inbox(t, n, rcpt)
	if len(bodies) != len(cases) {
		t.Fatalf("%s has %d messages, want %d", rcpt, len(bodies), len(cases))
	}
	for i, tc := range cases {
		if !bytes.Contains(bodies[i], []byte("Subject: "+tc.subject)) || !bytes.HasPrefix(bodies[i], []byte("Return-Path: <"+sender+">")) {
			t.Fatalf("message %d is not the %s one:\n%.300s", i, tc.name, bodies[i])
		}
	}
	// A wrong password is refused with 535 (swaks exits non-zero).
	cmd := exec.Command(swaks, "--server", submission, "--tls", "--from", sender, "--to", rcpt,
		"--auth", "PLAIN", "--auth-user", sender, "--auth-password", "wrong", "--hide-informational")
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "535") {
		t.Fatalf("wrong password: err %v\n%s", err, out)
	}
}
