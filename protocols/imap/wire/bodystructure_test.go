package wire

import (
	"bufio"
	"io"
	"net"
	"os"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"github.com/surat-mail/surat/protocols/imap/imapmsg"
)

// mimeMessage is the message of imaptest's fetch-body-mime script, shared
// with imapmsg's tests.
var mimeMessage = readFixture("../imapmsg/testdata/fetch-body-mime.eml")

// readFixture returns a file as a string.
func readFixture(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestBodyStructure(t *testing.T) {
	for _, c := range []struct {
		name     string
		msg      string
		extended bool
		want     string
	}{
		// imaptest's fetch-bodystructure script; Dovecot answers
		// (("TEXT" "x-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1)
		// "MIXED"), imaptest comparing case-insensitively.
		{"imaptest BODY", "From: user@domain.org\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n--foo bar\nContent-Type: text/x-myown; charset=us-ascii\n\nhello\n\n--foo bar--\n", false,
			`(("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1) "mixed")`},
		{"default text/plain", "Subject: x\n\nhello\nworld\n", true,
			`("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 14 2 NIL NIL NIL NIL)`},
		{"nested message", mimeMessage, false,
			`(("text" "x-myown" ("charset" "us-ascii") NIL NIL "7bit" 7 1)("message" "rfc822" NIL NIL NIL "7bit" 298 ("Sun, 12 Aug 2012 12:34:56 +0300" "submsg" ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) ((NIL NIL "sub" "domain.org")) NIL NIL NIL NIL NIL) (("text" "html" ("charset" "us-ascii") NIL NIL "7bit" 20 1)("text" "plain" ("charset" "us-ascii") NIL NIL "7bit" 21 1) "alternative") 18) "mixed")`},
		{"extension data", `Content-Type: multipart/mixed; boundary=XX
Content-Language: en, fr
Content-Location: http://example.com/x

--XX
Content-Type: application/pdf; name="r.pdf"
Content-Transfer-Encoding: base64
Content-ID: <id@x>
Content-Description: a report
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: attachment; filename="r.pdf"

AAAA
--XX--
`, true, `(("application" "pdf" ("name" "r.pdf") "<id@x>" "a report" "base64" 4 "Q2hlY2sgSW50ZWdyaXR5IQ==" ("attachment" ("filename" "r.pdf")) NIL NIL) "mixed" ("boundary" "XX") NIL ("en" "fr") "http://example.com/x")`},
	} {
		m := imapmsg.Parse(crlf(c.msg))
		got := encode(func(e *Encoder) { e.BodyStructure(&m.Root, c.extended) })
		if got != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, got, c.want)
		}
	}
}

// fetchWithClient serves one FETCH response, written by write, to go-imap's
// client and returns what the client parsed: a check of our grammar
// against an independent parser.
func fetchWithClient(t *testing.T, options *imap.FetchOptions, write func(e *Encoder)) *imapclient.FetchMessageBuffer {
	t.Helper()
	srv, cli := net.Pipe()
	defer srv.Close()
	go func() {
		bw := bufio.NewWriter(srv)
		e := NewEncoder(bw)
		e.Raw("* OK [CAPABILITY IMAP4rev1] ready\r\n")
		e.Flush()
		br := bufio.NewReader(srv)
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				return
			}
			tag, rest, _ := strings.Cut(line, " ")
			if strings.HasPrefix(strings.ToUpper(rest), "FETCH") {
				e.Raw("* 1 FETCH (")
				write(e)
				e.Raw(")\r\n")
			}
			e.Status(tag, "OK", "", "done")
			if e.Flush() != nil {
				return
			}
		}
	}()
	c := imapclient.New(cli, nil)
	defer c.Close()
	msgs, err := c.Fetch(imap.SeqSetNum(1), options).Collect()
	if err != nil {
		t.Fatalf("client: %v", err)
	}
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	return msgs[0]
}

func TestBodyStructureParsedByGoIMAP(t *testing.T) {
	m := imapmsg.Parse(crlf(strings.Replace(mimeMessage, "Content-Type: text/html", "Content-Type: text/html; charset=utf-8\nContent-Disposition: inline; filename=\"a b.html\"\nContent-Language: en, de\nContent-ID: <x@y>", 1)))
	for _, extended := range []bool{false, true} {
		got := fetchWithClient(t, &imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{Extended: extended}, Envelope: true}, func(e *Encoder) {
			e.Raw("ENVELOPE ").Envelope(imapmsg.ParseEnvelope(m.Bytes())).SP()
			if extended {
				e.Raw("BODYSTRUCTURE ")
			} else {
				e.Raw("BODY ")
			}
			e.BodyStructure(&m.Root, extended)
		})
		root, ok := got.BodyStructure.(*imap.BodyStructureMultiPart)
		if !ok || len(root.Children) != 2 || !strings.EqualFold(root.Subtype, "mixed") {
			t.Fatalf("root %#v", got.BodyStructure)
		}
		msg, ok := root.Children[1].(*imap.BodyStructureSinglePart)
		if !ok || msg.MessageRFC822 == nil || msg.Size != uint32(m.Root.Parts[1].Size()) || msg.MessageRFC822.NumLines != m.Root.Parts[1].Lines ||
			msg.MessageRFC822.Envelope.Subject != "submsg" {
			t.Fatalf("message part %#v", root.Children[1])
		}
		alt := msg.MessageRFC822.BodyStructure.(*imap.BodyStructureMultiPart)
		html := alt.Children[0].(*imap.BodyStructureSinglePart)
		if html.Params["charset"] != "utf-8" || html.Text == nil || html.ID != "<x@y>" {
			t.Errorf("html part %#v", html)
		}
		if extended && (html.Extended == nil || html.Extended.Disposition.Params["filename"] != "a b.html" ||
			strings.Join(html.Extended.Language, ",") != "en,de" || root.Extended == nil || root.Extended.Params["boundary"] != "foo bar") {
			t.Errorf("extension data: %#v %#v", html.Extended, root.Extended)
		}
		if got.Envelope == nil || got.Envelope.Subject != "" || len(got.Envelope.From) != 1 || got.Envelope.From[0].Host != "domain.org" {
			t.Errorf("envelope %#v", got.Envelope)
		}
	}
}

// FuzzBodyStructure writes the ENVELOPE and BODYSTRUCTURE of any message
// and has go-imap's client read them back: every tree imapmsg builds
// encodes to the grammar.
func FuzzBodyStructure(f *testing.F) {
	f.Add(crlf(mimeMessage), true)
	f.Add([]byte("Content-Type: multipart/digest; boundary=b; x*0=\"\xff\"\r\nContent-Language: ,\r\n\r\n--b\r\n\r\nSubject: (\r\n\r\n--b--"), false)
	f.Add([]byte("To: g:;, \"\\\"\" <@r:x>\r\nContent-Disposition: ; a=\r\nContent-Type: message/global\r\n\r\nFrom: \xc3\xa9@x\r\n"), true)
	f.Fuzz(func(t *testing.T, raw []byte, extended bool) {
		m := imapmsg.Parse(raw)
		out := encode(func(e *Encoder) { e.Envelope(imapmsg.ParseEnvelope(raw)).SP().BodyStructure(&m.Root, extended) })
		if strings.IndexByte(out, 0) >= 0 {
			t.Fatalf("NUL written: %q", out)
		}
		got := fetchWithClient(t, &imap.FetchOptions{BodyStructure: &imap.FetchItemBodyStructure{Extended: extended}, Envelope: true}, func(e *Encoder) {
			e.Raw("ENVELOPE ").Envelope(imapmsg.ParseEnvelope(raw)).SP()
			if extended {
				e.Raw("BODYSTRUCTURE ")
			} else {
				e.Raw("BODY ")
			}
			e.BodyStructure(&m.Root, extended)
		})
		if got.Envelope == nil || got.BodyStructure == nil {
			t.Fatalf("client read %#v", got)
		}
	})
}

// BenchmarkBodyStructure parses a message with a nested message and
// writes its BODYSTRUCTURE, as FETCH BODYSTRUCTURE does per message.
func BenchmarkBodyStructure(b *testing.B) {
	raw := crlf(mimeMessage)
	e := NewEncoder(bufio.NewWriterSize(io.Discard, 64<<10))
	b.ReportAllocs()
	for b.Loop() {
		m := imapmsg.Parse(raw)
		e.BodyStructure(&m.Root, true)
	}
	if err := e.Flush(); err != nil {
		b.Fatal(err)
	}
}
