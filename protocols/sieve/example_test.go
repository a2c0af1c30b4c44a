package sieve_test

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/surat-mail/surat/protocols/sieve"
)

func Example() {
	script, err := sieve.Compile([]byte(`require ["fileinto", "imap4flags", "variables"];
if header :matches "List-ID" "*<*.lists.example.org>" {
    addflag "$List";
    fileinto "Lists/${2}";
}`), sieve.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	msg := "List-ID: Acme <acme.lists.example.org>\r\nSubject: hi\r\n\r\nbody\r\n"
	res, err := script.Execute(context.Background(), sieve.Message{
		Header: []byte(msg[:strings.Index(msg, "\r\n\r\n")+4]),
		Body:   func() (io.Reader, error) { return strings.NewReader("body\r\n"), nil },
		Size:   int64(len(msg)),
	}, sieve.Env{From: "a@example.org", To: "bob@example.com", User: "bob@example.com", Now: time.Unix(0, 0)})
	if err != nil {
		fmt.Println("keep in INBOX:", err)
		return
	}
	fmt.Println(res.Keep, res.FileInto[0].Mailbox, res.FileInto[0].Flags)
	// Output: false Lists/acme [$List]
}

func ExampleCompile_error() {
	_, err := sieve.Compile([]byte("require \"fileinto\";\nif header :contains \"subject\" \"x\" {\n  fileinto \"Junk\"\n}\n"), sieve.Options{})
	fmt.Println(err)
	// Output: line 4: expected ";" or "{" after command "fileinto", found "}"
}
