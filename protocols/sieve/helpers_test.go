package sieve

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// testMessage is a small message most tests run on.
const testMessage = "Return-Path: <alice@example.org>\r\n" +
	"Received: from mx.example.org by mail.example.com; Tue, 1 Dec 2026 10:00:00 +0000\r\n" +
	"From: Alice Example <alice@example.org>\r\n" +
	"To: Bob <bob+lists@example.com>, carol@Example.COM\r\n" +
	"Cc: \"Dave, Jr.\" <dave@example.net>\r\n" +
	"Subject: [acme-users] [fwd] version 1.0 is out\r\n" +
	"Date: Tue, 01 Dec 2026 09:30:00 -0500\r\n" +
	"Message-ID: <1234@example.org>\r\n" +
	"List-ID: Acme users <acme-users.lists.example.org>\r\n" +
	"X-Multi: one\r\n" +
	"X-Multi: two\r\n" +
	"X-Folded: first\r\n second\r\n" +
	"X-Encoded: =?utf-8?q?caf=C3=A9?=\r\n" +
	"\r\n" +
	"Hello Bob,\r\nthe new version is out.\r\n"

func splitMessage(raw string) Message {
	i := strings.Index(raw, "\r\n\r\n")
	header, body := raw[:i+4], raw[i+4:]
	return Message{
		Header: []byte(header),
		Body:   func() (io.Reader, error) { return strings.NewReader(body), nil },
		Size:   int64(len(raw)),
	}
}

func testEnv() Env {
	return Env{
		From:      "alice@example.org",
		To:        "bob+lists@example.com",
		User:      "bob@example.com",
		Now:       time.Date(2026, 12, 2, 14, 30, 0, 0, time.UTC),
		Addresses: []string{"bob@example.com"},
	}
}

// run compiles and runs a script on testMessage with testEnv.
func run(t *testing.T, script string) *Result {
	t.Helper()
	return runOn(t, script, testMessage, testEnv())
}

func runOn(t *testing.T, script, raw string, env Env) *Result {
	t.Helper()
	s, err := Compile([]byte(script), Options{})
	if err != nil {
		t.Fatalf("compile: %v\n%s", err, script)
	}
	r, err := s.Execute(context.Background(), splitMessage(raw), env)
	if err != nil {
		t.Fatalf("execute: %v\n%s", err, script)
	}
	return r
}

// compileErr compiles a script that must fail, returning the error.
func compileErr(t *testing.T, script string) *CompileError {
	t.Helper()
	_, err := Compile([]byte(script), Options{})
	if err == nil {
		t.Fatalf("compiled, want an error:\n%s", script)
	}
	ce, ok := err.(*CompileError)
	if !ok {
		t.Fatalf("error %T %v, want *CompileError", err, err)
	}
	return ce
}

func mailboxes(r *Result) string {
	var names []string
	if r.Keep {
		names = append(names, "KEEP")
	}
	for _, f := range r.FileInto {
		names = append(names, f.Mailbox)
	}
	return strings.Join(names, ",")
}

// ifTrue returns a script that files into "yes" when the test holds.
func ifTrue(requires, test string) string {
	req := `require ["fileinto"`
	if requires != "" {
		req += ", " + requires
	}
	return req + "];\nif " + test + " { fileinto \"yes\"; }\n"
}

// holds reports whether the test holds on testMessage.
func holds(t *testing.T, requires, test string) bool {
	t.Helper()
	return holdsOn(t, requires, test, testMessage, testEnv())
}

func holdsOn(t *testing.T, requires, test, raw string, env Env) bool {
	t.Helper()
	r := runOn(t, ifTrue(requires, test), raw, env)
	return len(r.FileInto) == 1 && r.FileInto[0].Mailbox == "yes"
}
