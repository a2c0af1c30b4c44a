package sieveload

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/sieve"
)

// The bench's script compiles, files the bench's messages into Folder
// after evaluating every rule, and leaves others in INBOX.
func TestScriptFilesTheCorpus(t *testing.T) {
	s, err := sieve.Compile([]byte(Script), sieve.Options{})
	if err != nil {
		t.Fatal(err)
	}
	msg := Corpus(1, "sieveload round 1 script on", 1, 200)[0]
	head, _, _ := bytes.Cut(msg, []byte("\r\n\r\n"))
	env := sieve.Env{From: Sender, To: "sieve1@example.test", User: "sieve1@example.test", Now: time.Now()}
	res, err := s.Execute(context.Background(), sieve.Message{Header: append(head, "\r\n\r\n"...), Size: int64(len(msg))}, env)
	if err != nil {
		t.Fatal(err)
	}
	if res.Keep || len(res.FileInto) != 1 || res.FileInto[0].Mailbox != Folder || !res.FileInto[0].Create {
		t.Fatalf("result %+v", res)
	}
	other := []byte("From: someone@else.test\r\nSubject: hello\r\n\r\n")
	res, err = s.Execute(context.Background(), sieve.Message{Header: other, Size: 100}, env)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Keep || len(res.FileInto) != 0 {
		t.Fatalf("another message: %+v", res)
	}
}
