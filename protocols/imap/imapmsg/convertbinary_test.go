package imapmsg

import (
	"bytes"
	"testing"
)

// imaptest's append-binary script: a binary part appended as a literal8
// comes back from BODY[1] as base64, from BINARY[1] as it was.
func TestConvertBinary(t *testing.T) {
	bin := []byte("\x00 -\xff\r\n\r\n\x00")
	raw := append(crlf("From: user@domain.org\nMime-Version: 1.0\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: binary\n\n"), bin...)
	out, changed := ConvertBinary(raw)
	if !changed {
		t.Fatal("not changed")
	}
	want := "From: user@domain.org\r\nMime-Version: 1.0\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nACAt/w0KDQoA\r\n"
	if string(out) != want {
		t.Errorf("got %q\nwant %q", out, want)
	}
	m := Parse(out)
	if b, err := m.Binary([]int{1}); err != nil || !bytes.Equal(b, bin) {
		t.Errorf("BINARY[1] %q %v", b, err)
	}
	if b, _ := m.BodySection(sec("", 1)); bytes.IndexByte(b, 0) >= 0 {
		t.Errorf("BODY[1] holds NUL: %q", b)
	}
}

func TestConvertBinaryParts(t *testing.T) {
	long := bytes.Repeat([]byte{0, 1, 2, 0xfe}, 50)
	raw := append(crlf("Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nplain text\n--b\nContent-Type: application/x\n\n"), long...)
	raw = append(raw, crlf("\n--b\nContent-Type: message/rfc822\n\nSubject: inner\nContent-Transfer-Encoding: BINARY\n\nin\x00ner\n--b--\n")...)
	out, changed := ConvertBinary(raw)
	if !changed {
		t.Fatal("not changed")
	}
	m := Parse(out)
	for _, c := range []struct {
		part []int
		want []byte
		enc  string
	}{
		{[]int{1}, []byte("plain text"), "7bit"},
		{[]int{2}, long, "base64"},
		{[]int{3, 1}, []byte("in\x00ner"), "base64"},
	} {
		p := m.Find(c.part)
		b, err := m.Binary(c.part)
		if err != nil || !bytes.Equal(b, c.want) || p.Encoding != c.enc {
			t.Errorf("%v: %q %v %s", c.part, b, err, p.Encoding)
		}
	}
	if bytes.IndexByte(out, 0) >= 0 {
		t.Error("NUL left")
	}
	// Lines of base64 are at most 76 characters (RFC 2045 §6.8).
	for _, line := range bytes.Split(out, []byte("\r\n")) {
		if len(line) > 76 {
			t.Errorf("line of %d", len(line))
		}
	}
	if _, changed := ConvertBinary(crlf(mimeMessage)); changed {
		t.Error("a message with no binary part changed")
	}
}
