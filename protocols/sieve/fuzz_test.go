package sieve

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

// FuzzCompile: no script makes Compile panic or hang; an error is always
// a *CompileError with a line inside the script.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{
		"", "keep;", `require ["fileinto", "variables"]; if header :matches "subject" "*" { fileinto "${1}"; }`,
		"text:\nx\n.\n", `if anyof (not true, false) { discard; } elsif size :over 1K { stop; } else { keep; }`,
		"/* x */ # y\n", `require "encoded-character"; redirect "${hex:61 40 62}";`,
	} {
		f.Add([]byte(s))
	}
	f.Add([]byte(fuzzScript))
	for _, c := range clientScripts {
		f.Add([]byte(c.src))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := Compile(src, Options{Limits: Limits{MaxSteps: 5000}})
		if err == nil {
			// Whatever compiles runs without panicking.
			env := Env{From: "a@b", To: "x+lists@y", User: "x@y", Now: time.Unix(1e9, 0).UTC()}
			r, err := s.Execute(context.Background(), splitMessage(testMessage), env)
			if err == nil && r == nil {
				t.Fatal("nil result without an error")
			}
			return
		}
		ce, ok := err.(*CompileError)
		if !ok {
			t.Fatalf("error %T: %v", err, err)
		}
		if ce.Line < 1 || ce.Line > strings.Count(string(src), "\n")+1 {
			t.Fatalf("line %d out of range: %v", ce.Line, ce)
		}
	})
}

// fuzzScript uses most tests and actions, so that FuzzExecute drives
// them with hostile messages.
const fuzzScript = `require ["fileinto", "envelope", "body", "variables", "imap4flags", "relational",
  "comparator-i;ascii-numeric", "subaddress", "date", "index", "regex", "editheader",
  "duplicate", "mailbox", "copy", "vacation"];
if header :matches "subject" "*[*]*" { set "tag" "${2}"; fileinto :copy "lists/${tag}"; }
if address :detail :is "to" "lists" { addflag "\\Seen"; }
if body :text :contains "unsubscribe" { fileinto "Bulk"; }
if body :raw :regex "^[a-z]+$" { discard; }
if date :value "ge" :originalzone "date" "year" "2000" { addheader "X-Year" "new"; }
if header :count "ge" :comparator "i;ascii-numeric" "received" "3" { deleteheader :index 1 "received"; }
if duplicate { discard; }
if exists "x-vac" { vacation :days 3 "away"; }
`

// FuzzExecute: no message makes Execute panic; it always ends in a
// result or an error.
func FuzzExecute(f *testing.F) {
	f.Add([]byte(testMessage))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=b\r\nSubject: a[b]c\r\n\r\n--b\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nunsubscribe=E9\r\n--b--\r\n"))
	f.Add([]byte("To: x+lists@y\r\nDate: garbage\r\nX-Vac: 1\r\n\r\nabc"))
	f.Add([]byte("Subject: =?utf-7?q?x?= =?iso-2022-cn-ext?b?AAAA?=\r\nContent-Type: text/plain; charset=utf-7\r\n\r\nunsubscribe"))
	s, err := Compile([]byte(fuzzScript), Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		header, body := string(raw), ""
		if i := strings.Index(header, "\r\n\r\n"); i >= 0 {
			header, body = header[:i+4], header[i+4:]
		}
		msg := Message{
			Header: []byte(header),
			Body:   func() (io.Reader, error) { return strings.NewReader(body), nil },
			Size:   int64(len(raw)),
		}
		env := Env{From: "a@b", To: "x+lists@y", User: "x@y", Now: time.Unix(1e9, 0).UTC()}
		r, err := s.Execute(context.Background(), msg, env)
		if err == nil && r == nil {
			t.Fatal("nil result without an error")
		}
	})
}
