package imapmsg

import (
	"errors"
	"testing"

	"github.com/emersion/go-imap/v2"
)

// The message of imaptest's fetch-binary-mime-base64 script: base64 with
// white space, junk padding and line breaks in odd places.
const base64Message = `From: user@domain.org
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary="foo
 bar"

Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64


aGVs
bG8gd29y
bGQ=

--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64

  aGVs    
 bG8g  
   d29y  	 
    bGQ= 


--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64

aGVsbG8g
dG8geW91IHRv
bw==

--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: base64

aGVsbG8gdG8gZXZlcnlvbmUh
--foo bar
Content-Type: text/x-myown; charset=us-ascii
Content-Transfer-Encoding: BASE64

YWJjZGVmZw1oaWprbA0KbW5vCnBxcnN0dXZxeHl6

--foo bar--
Root MIME epilogue
`

// The message of imaptest's fetch-binary-mime-qp script.
const qpMessage = "From: user@domain.org\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\nRoot MIME prologue\n\n--foo bar\n" +
	"Content-Type: text/x-myown; charset=us-ascii\nContent-Transfer-Encoding: quoted-printable\n\n" +
	"hello  \nbar=\n\nfoo\t=\nbar\nfoo\t \t= \n=62\nfoo = \t\nbar\nfoo =\n=62\nfoo  \nbar=\n\nfoo_bar\n\n--foo bar--\nRoot MIME epilogue\n"

// Dovecot's answers to imaptest's fetch-binary-mime-base64 and -qp
// scripts.
func TestBinary(t *testing.T) {
	b64 := Parse(crlf(base64Message))
	qp := Parse(crlf(qpMessage))
	for _, c := range []struct {
		name string
		m    *Message
		part []int
		want string
	}{
		{"base64 1", b64, []int{1}, "hello world"},
		{"base64 2, white space", b64, []int{2}, "hello world"},
		{"base64 3", b64, []int{3}, "hello to you too"},
		{"base64 4", b64, []int{4}, "hello to everyone!"},
		{"base64 5, upper-case encoding name", b64, []int{5}, "abcdefg\rhijkl\r\nmno\npqrstuvqxyz"},
		{"qp", qp, []int{1}, "hello\r\nbar\r\nfoo\tbar\r\nfoo\t \tb\r\nfoo bar\r\nfoo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"},
	} {
		got, err := c.m.Binary(c.part)
		if err != nil || string(got) != c.want {
			t.Errorf("%s: got %q, %v; want %q", c.name, got, err, c.want)
		}
		size, err := c.m.BinarySize(c.part)
		if err != nil || size != int64(len(c.want)) {
			t.Errorf("%s: size %d, %v; want %d", c.name, size, err, len(c.want))
		}
	}
	for _, c := range []struct {
		m            *Message
		offset, size int64
		want         string
	}{
		{b64, 0, 7, "abcdefg"}, {b64, 0, 8, "abcdefg\r"}, {b64, 10, 10, "jkl\r\nmno\np"}, {b64, 15, 100, "mno\npqrstuvqxyz"},
		{qp, 0, 10, "hello\r\nbar"}, {qp, 10, 10, "\r\nfoo\tbar\r"}, {qp, 40, 100, "oo b\r\nfoo\r\nbar\r\nfoo_bar\r\n"},
	} {
		part := []int{5}
		if c.m == qp {
			part = []int{1}
		}
		got, err := c.m.BinarySection(&imap.FetchItemBinarySection{Part: part, Partial: &imap.SectionPartial{Offset: c.offset, Size: c.size}})
		if err != nil || string(got) != c.want {
			t.Errorf("<%d.%d>: got %q, %v; want %q", c.offset, c.size, got, err, c.want)
		}
	}
}

// Dovecot's answers to imaptest's fetch-binary-mime script: nothing to
// decode, BINARY is BODY.
func TestBinaryIdentity(t *testing.T) {
	m := Parse(crlf(mimeMessage))
	for _, c := range []struct {
		part []int
		size int64
	}{{nil, 602}, {[]int{1}, 7}, {[]int{2}, 298}, {[]int{2, 1}, 20}, {[]int{2, 2}, 21}} {
		got, err := m.BinarySize(c.part)
		if err != nil || got != c.size {
			t.Errorf("BINARY.SIZE%v = %d, %v; want %d", c.part, got, err, c.size)
		}
		b, _ := m.Binary(c.part)
		body, _ := m.BodySection(sec("", c.part...))
		if string(b) != string(body) {
			t.Errorf("BINARY%v differs from BODY", c.part)
		}
	}
}

func TestBinaryUnknownEncoding(t *testing.T) {
	m := Parse(crlf("Content-Transfer-Encoding: x-uuencode\n\nbegin 644 x\n"))
	if _, err := m.Binary([]int{1}); !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("Binary: %v, want ErrUnknownEncoding", err)
	}
	if _, err := m.BinarySize([]int{1}); !errors.Is(err, ErrUnknownEncoding) {
		t.Errorf("BinarySize: %v, want ErrUnknownEncoding", err)
	}
	// The whole message is never decoded.
	if b, err := m.Binary(nil); err != nil || len(b) != len(m.Bytes()) {
		t.Errorf("Binary[]: %d, %v", len(b), err)
	}
	// A missing part is empty, not an error.
	if b, err := m.Binary([]int{4}); err != nil || len(b) != 0 {
		t.Errorf("Binary[4]: %q, %v", b, err)
	}
}

func TestDecodeQPMalformed(t *testing.T) {
	for in, want := range map[string]string{
		"a=4":       "a=4",
		"a=zz":      "a=zz",
		"=":         "",
		"a=3D=3d":   "a==",
		"x\ny":      "x\ny",
		"x  \r\ny ": "x\r\ny",
	} {
		if got := string(decodeQP(nil, []byte(in))); got != want {
			t.Errorf("%q: got %q, want %q", in, got, want)
		}
		if _, n := quotedPrintable(nil, []byte(in), true); n != len(want) {
			t.Errorf("%q: size %d, want %d", in, n, len(want))
		}
	}
}
