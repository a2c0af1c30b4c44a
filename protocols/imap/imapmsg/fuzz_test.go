package imapmsg

import (
	"bytes"
	"testing"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
)

func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte("From: a@b\r\nTo: g: x@y, <@r:z@w>;\r\nSubject: s\r\n\r\n"))
	f.Add([]byte("From: \"q\\\" (c\" <\r\n\t@a,@b:u@[1.2.3.4]> (c (d) \\) e), :;<>@,\r\n\r\n"))
	f.Add([]byte("Sender: \r\nReply-To: (only a comment)\r\n"))
	f.Fuzz(func(t *testing.T, header []byte) {
		env := ParseEnvelope(header)
		if env.Sender == nil && env.From != nil || env.ReplyTo == nil && env.From != nil {
			t.Fatalf("sender or reply-to missing with a from: %+v", env)
		}
		_ = env.IMAP()
	})
}

func FuzzParseAddressList(f *testing.F) {
	for _, s := range []string{"a@b", "g: a@b, c@d;, e@f", "\"x\\\"y\" <@r:u@h> (n)", "((((", "<<<>>>", "a.@.b", "\"", "(\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, a := range ParseAddressList(s) {
			// A group start has a name, an address a mailbox and a host.
			if a.Host == "" && a.Route != "" {
				t.Fatalf("route without host: %+v", a)
			}
			if a.Host != "" && a.Mailbox == "" {
				t.Fatalf("host without mailbox: %+v", a)
			}
		}
	})
}

// FuzzParse parses a message and extracts every section of every part:
// no panic, offsets inside the message, BINARY.SIZE the size of BINARY,
// a preview within its limits.
func FuzzParse(f *testing.F) {
	f.Add(crlf(mimeMessage))
	f.Add(crlf(base64Message))
	f.Add(crlf(qpMessage))
	f.Add([]byte("Content-Type: multipart/mixed; boundary=a\r\n\r\n--a\r\nContent-Type: message/rfc822\r\n\r\nContent-Type: multipart/digest; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b--\r\n--a--"))
	f.Add([]byte("Content-Type: text/html; charset=iso-8859-1\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n<p>=E9t=E9</p>"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		m := Parse(raw)
		var walk func(p *Part, path []int, lo, hi int)
		walk = func(p *Part, path []int, lo, hi int) {
			if p.HeaderStart < lo || p.HeaderStart > p.BodyStart || p.BodyStart > p.End || p.End > hi {
				t.Fatalf("part %v out of bounds: %d %d %d in [%d,%d)", path, p.HeaderStart, p.BodyStart, p.End, lo, hi)
			}
			if (p.IsText() || p.IsMessage()) && p.Lines != int64(bytes.Count(m.Body(p), []byte{'\n'})) {
				t.Fatalf("part %v: %d lines, body has %d", path, p.Lines, bytes.Count(m.Body(p), []byte{'\n'}))
			}
			for _, spec := range []imap.PartSpecifier{imap.PartSpecifierNone, imap.PartSpecifierHeader, imap.PartSpecifierText, imap.PartSpecifierMIME} {
				bs := &imap.FetchItemBodySection{Part: path, Specifier: spec, Partial: &imap.SectionPartial{Offset: 3, Size: 1 << 40}}
				m.BodySection(bs)
			}
			m.BodySection(&imap.FetchItemBodySection{Part: path, Specifier: imap.PartSpecifierHeader, HeaderFields: []string{"content-type", "from"}})
			b, err := m.Binary(path)
			size, serr := m.BinarySize(path)
			if (err == nil) != (serr == nil) || err == nil && int64(len(b)) != size {
				t.Fatalf("part %v: BINARY %d (%v), BINARY.SIZE %d (%v)", path, len(b), err, size, serr)
			}
			for k := range p.Parts {
				walk(&p.Parts[k], append(path[:len(path):len(path)], k+1), p.BodyStart, p.End)
			}
			if p.Message != nil {
				walk(p.Message, path, p.BodyStart, p.End)
			}
		}
		walk(&m.Root, nil, 0, len(raw))
		pv := m.Preview()
		if len(pv) > 256 || utf8.RuneCountInString(pv) > PreviewChars || !utf8.ValidString(pv) {
			t.Fatalf("preview %q", pv)
		}
		if got, _ := m.BodySection(&imap.FetchItemBodySection{}); !bytes.Equal(got, raw) {
			t.Fatal("BODY[] is not the message")
		}
	})
}

func FuzzDecode(f *testing.F) {
	f.Add([]byte("aGVs\r\nbG8=\r\n"))
	f.Add([]byte("a=3D=\r\nb =  \r\n=zz="))
	f.Fuzz(func(t *testing.T, src []byte) {
		if got := decodeBase64(nil, src); len(got) != base64Size(src) {
			t.Fatalf("base64: %d decoded, size %d", len(got), base64Size(src))
		}
		got := decodeQP(nil, src)
		if _, n := quotedPrintable(nil, src, true); n != len(got) {
			t.Fatalf("quoted-printable: %d decoded, size %d", len(got), n)
		}
	})
}

func FuzzPartial(f *testing.F) {
	f.Add(10, int64(3), int64(5))
	f.Add(0, int64(-1), int64(1<<62))
	f.Fuzz(func(t *testing.T, n int, offset, length int64) {
		if n < 0 || n > 1<<16 {
			return
		}
		b := make([]byte, n)
		got := Partial(b, offset, length)
		if int64(len(got)) > max(length, 0) || len(got) > n {
			t.Fatalf("<%d.%d> of %d: %d octets", offset, length, n, len(got))
		}
	})
}

func FuzzContentParams(f *testing.F) {
	f.Add(`text/plain; charset="utf-8"; name*0*=utf-8''%41; name*1="b"`)
	f.Add(`a/b; (c) x = "\"" ; y*=z; y*0=; y*999*=q`)
	f.Fuzz(func(t *testing.T, s string) {
		cv := contentValue{s: s}
		cv.token()
		cv.is('/')
		cv.token()
		for _, p := range cv.params() {
			if p.Name == "" {
				t.Fatalf("empty parameter name in %q", s)
			}
		}
	})
}

// FuzzConvertBinary converts any message: the result parses to the same
// parts, each with the content it had (BINARY), and its converted parts
// hold no NUL.
func FuzzConvertBinary(f *testing.F) {
	f.Add(append(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Transfer-Encoding: binary\n\n"), 0, 1, '\r', '\n', '-', '-', 'b', '-', '-'))
	f.Add([]byte("Content-Transfer-Encoding: binary\r\nX: y"))
	f.Add([]byte("Content-Type: message/rfc822\r\n\r\nA: b\n\n\x00"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		out, changed := ConvertBinary(raw)
		if !changed {
			if !bytes.Equal(out, raw) {
				t.Fatal("unchanged but different")
			}
			return
		}
		before, after := Parse(raw), Parse(out)
		var walk func(p *Part, path []int)
		walk = func(p *Part, path []int) {
			for k := range p.Parts {
				walk(&p.Parts[k], append(path[:len(path):len(path)], k+1))
			}
			if p.Message != nil {
				walk(p.Message, path)
				return
			}
			if p.IsMultipart() || len(path) == 0 {
				return
			}
			want, err := before.Binary(path)
			if err != nil {
				return
			}
			got, err := after.Binary(path)
			if err != nil || !bytes.Equal(got, want) {
				t.Fatalf("part %v: %q (%v), want %q", path, got, err, want)
			}
		}
		walk(&before.Root, nil)
	})
}
