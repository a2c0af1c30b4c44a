package smtp

import (
	"bytes"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	gosmtp "github.com/emersion/go-smtp"

	evlog "github.com/surat-mail/surat/log"
)

// FuzzMessage drives the DATA path after go-smtp (line-ending check, size
// bound, trace fields, Message-ID extraction) with arbitrary bytes, read in
// arbitrary pieces: no panic; what is accepted has CRLF line endings only
// and is stored whole behind exactly two trace fields.
func FuzzMessage(f *testing.F) {
	f.Add([]byte("Subject: x\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n"), "client.test", "a@b.test", uint8(3))
	f.Add([]byte("carrier\r\n\n.\nMAIL FROM:<x@evil.test>\r\n"), "evil\r\nX-Injected: 1", "x>\r\nBcc: y", uint8(1))
	f.Add([]byte("a\rb\r\n"), "", "", uint8(0))
	f.Add([]byte("Message-ID:\r\n <folded@x>\r\n\r\n"), "h", "", uint8(7))
	f.Add([]byte("\r"), "(", "<", uint8(2))
	f.Fuzz(func(t *testing.T, body []byte, helo, from string, piece uint8) {
		var r io.Reader = bytes.NewReader(body)
		if piece%2 == 1 {
			r = iotest.OneByteReader(r)
		} else if piece%4 == 2 {
			r = iotest.HalfReader(r)
		}
		// Hops counted byte by byte are hops counted at once.
		var whole, bytewise receivedCounter
		for i := range body {
			bytewise.scan(body[i : i+1])
		}
		if whole.scan(body) != bytewise.n {
			t.Fatalf("Received fields: %d at once, %d byte by byte", whole.n, bytewise.n)
		}
		const limit = 1 << 16
		tr := trace{Helo: helo, RemoteIP: "192.0.2.1", Host: "mx.example.test", ID: "ID", For: from, Date: time.Unix(0, 0).UTC(), TLS: piece%3 == 0}
		head := storedHead(from, nil, tr)
		got, err := readMessage(r, limit, nil)
		if err != nil {
			var se *gosmtp.SMTPError
			if !errors.As(err, &se) || se.Code < 400 {
				t.Fatalf("error %v is not an SMTP error reply", err)
			}
			if len(body) <= limit && !bytes.Contains(body, []byte("\n")) && !bytes.Contains(body, []byte("\r")) {
				t.Fatalf("refused a message without line-ending characters: %v", err)
			}
			return
		}
		stored := got.bytes()
		if !bytes.Equal(stored, body) {
			t.Fatal("stored message is not the message unchanged")
		}
		if i := bytes.IndexAny(bytes.ReplaceAll(body, []byte("\r\n"), nil), "\r\n"); i >= 0 {
			t.Fatalf("accepted a bare CR or LF at %d", i)
		}
		// The blocks are the chunks evlog.Chunks would make of it.
		want := evlog.Chunks(stored)
		if len(got.blocks) != len(want) || got.size != len(stored) || !bytes.Equal(got.sum, want[0].Hash) {
			t.Fatalf("%d blocks of %d bytes, want %d of %d", len(got.blocks), got.size, len(want), len(stored))
		}
		for i, b := range got.blocks {
			if !bytes.Equal(b, want[i].Data) {
				t.Fatalf("block %d differs from evlog.Chunks", i)
			}
		}
		if len(got.blocks) == 1 {
			last, err := got.last(head, nil)
			if err != nil || last.Size != uint64(len(head)+len(body)) || !bytes.Equal(last.Hash, evlog.HeadedName(head, got.sum)) {
				t.Fatalf("last chunk %v: %v", last, err)
			}
		}
		headText := string(head)
		if !strings.HasPrefix(headText, "Return-Path: <") || !strings.Contains(headText, "\r\nReceived: from ") {
			t.Fatalf("trace fields missing: %q", headText)
		}
		// Client-supplied words cannot start a header field of their own.
		fields := 0
		for _, line := range strings.Split(strings.TrimSuffix(headText, "\r\n"), "\r\n") {
			if line == "" || strings.ContainsAny(line, "\r\n") {
				t.Fatalf("broken trace line %q in %q", line, headText)
			}
			if line[0] != '\t' {
				fields++
			}
		}
		if fields != 2 {
			t.Fatalf("%d header fields in the trace, want 2: %q", fields, headText)
		}
		_ = headerValue(got.head, "Message-ID")
	})
}

func TestHeaderValue(t *testing.T) {
	msg := []byte("Subject: hi\r\nmessage-id:\r\n <folded@x>\r\nX: y\r\n\r\nMessage-ID: <body@x>\r\n")
	if got := headerValue(msg, "Message-ID"); got != "<folded@x>" {
		t.Fatalf("got %q", got)
	}
	if got := headerValue([]byte("\r\nMessage-ID: <x>\r\n"), "Message-ID"); got != "" {
		t.Fatalf("read a body line as a header: %q", got)
	}
}

func TestReceivedField(t *testing.T) {
	tr := trace{Helo: "client.test", RemoteIP: "::ffff:192.0.2.7", Host: "mx.example.test", TLS: true, Auth: true,
		TLSInfo: "TLS 1.3 TLS_AES_128_GCM_SHA256", ID: "ABC", For: "a@example.test",
		Date: time.Date(2024, 3, 1, 12, 0, 0, 0, time.FixedZone("", 3600))}
	want := "Received: from client.test ([192.0.2.7])\r\n" +
		"\tby mx.example.test (Surat) with ESMTPSA (TLS 1.3 TLS_AES_128_GCM_SHA256) id ABC\r\n" +
		"\tfor <a@example.test>; Fri, 01 Mar 2024 12:00:00 +0100\r\n"
	if got := receivedField(tr); got != want {
		t.Fatalf("got\n%q\nwant\n%q", got, want)
	}
	tr = trace{Helo: "x", RemoteIP: "2001:db8::1", Host: "h", ID: "I", UTF8: true, Date: time.Unix(0, 0).UTC()}
	if got := receivedField(tr); !strings.Contains(got, "([IPv6:2001:db8::1])") || !strings.Contains(got, "with UTF8SMTP id I") ||
		!strings.Contains(got, "\t; Thu, 01 Jan 1970") {
		t.Fatalf("got %q", got)
	}
}
