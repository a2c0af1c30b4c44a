package sieve

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"
)

const mimeMessage = "From: a@x.test\r\n" +
	"Content-Type: multipart/mixed; boundary=\"outer\"\r\n" +
	"\r\n" +
	"preamble\r\n" +
	"--outer\r\n" +
	"Content-Type: multipart/alternative; boundary=inner\r\n" +
	"\r\n" +
	"--inner\r\n" +
	"Content-Type: text/plain; charset=iso-8859-1\r\n" +
	"Content-Transfer-Encoding: quoted-printable\r\n" +
	"\r\n" +
	"Caf=E9 au lait, plain=\r\n" +
	" text.\r\n" +
	"--inner\r\n" +
	"Content-Type: text/html; charset=utf-8\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"PGI+SFRNTCBwYXJ0PC9iPg==\r\n" +
	"--inner--\r\n" +
	"--outer\r\n" +
	"Content-Type: application/octet-stream\r\n" +
	"Content-Transfer-Encoding: base64\r\n" +
	"\r\n" +
	"YmluYXJ5IHNlY3JldA==\r\n" +
	"--outer\r\n" +
	"Content-Type: message/rfc822\r\n" +
	"\r\n" +
	"Subject: inner\r\n" +
	"Content-Type: text/plain\r\n" +
	"\r\n" +
	"forwarded words\r\n" +
	"--outer--\r\n"

// TestBody: RFC 5173 §5: :text (default), :content and :raw over a MIME
// tree, with transfer and charset decoding.
func TestBody(t *testing.T) {
	for _, c := range []struct {
		test string
		want bool
	}{
		{`body :contains "Café au lait, plain text."`, true},
		{`body :text :contains "HTML part"`, true},
		{`body :contains "binary secret"`, false},
		{`body :content "application" :contains "binary secret"`, true},
		{`body :content "application/pdf" :contains "binary secret"`, false},
		{`body :content "text/html" :contains "<b>HTML"`, true},
		{`body :content "text/plain" :contains "HTML"`, false},
		{`body :content "" :contains "secret"`, true},
		{`body :contains "forwarded words"`, true},
		{`body :raw :contains "Caf=E9"`, true},
		{`body :raw :contains "Café"`, false},
		{`body :raw :contains "YmluYXJ5"`, true},
		{`body :matches "*lait*"`, true},
	} {
		if got := holdsOn(t, `"body"`, c.test, mimeMessage, testEnv()); got != c.want {
			t.Errorf("%s = %v, want %v", c.test, got, c.want)
		}
	}
}

// TestBodyPlain: a message without MIME headers is text/plain.
func TestBodyPlain(t *testing.T) {
	if !holds(t, `"body"`, `body :contains "new version"`) {
		t.Fatal("plain body")
	}
	if holds(t, `"body"`, `body :contains "Subject"`) {
		t.Fatal("the header is not the body")
	}
	msg := Message{Header: []byte("Subject: x\r\n\r\n")}
	s, _ := Compile([]byte(ifTrue(`"body"`, `body :contains "x"`)), Options{})
	r, err := s.Execute(context.Background(), msg, testEnv())
	if err != nil || len(r.FileInto) != 0 {
		t.Fatalf("no body: %+v %v", r, err)
	}
}

// TestBodyLimit: only MaxBodyBytes are read.
func TestBodyLimit(t *testing.T) {
	body := strings.Repeat("a", 100) + "needle"
	msg := Message{
		Header: []byte("Subject: x\r\n\r\n"),
		Body:   func() (io.Reader, error) { return strings.NewReader(body), nil },
	}
	for _, c := range []struct {
		limit int
		want  bool
	}{{50, false}, {200, true}} {
		s, err := Compile([]byte(ifTrue(`"body"`, `body :raw :contains "needle"`)), Options{Limits: Limits{MaxBodyBytes: c.limit}})
		if err != nil {
			t.Fatal(err)
		}
		r, err := s.Execute(context.Background(), msg, testEnv())
		if err != nil {
			t.Fatal(err)
		}
		if got := len(r.FileInto) == 1; got != c.want {
			t.Errorf("limit %d: %v", c.limit, got)
		}
	}
	// A body that cannot be read is a runtime error.
	msg.Body = func() (io.Reader, error) { return nil, errors.New("gone") }
	s, _ := Compile([]byte(ifTrue(`"body"`, `body :raw :contains "needle"`)), Options{})
	if _, err := s.Execute(context.Background(), msg, testEnv()); err == nil {
		t.Fatal("unreadable body succeeded")
	}
}

// TestBodyNotReadWithoutBodyTest: a script without body never calls
// Message.Body.
func TestBodyNotReadWithoutBodyTest(t *testing.T) {
	msg := splitMessage(testMessage)
	msg.Body = func() (io.Reader, error) { t.Fatal("body read"); return nil, nil }
	s, _ := Compile([]byte(`require "fileinto"; if header :contains "subject" "x" { fileinto "a"; }`), Options{})
	if _, err := s.Execute(context.Background(), msg, testEnv()); err != nil {
		t.Fatal(err)
	}
}
