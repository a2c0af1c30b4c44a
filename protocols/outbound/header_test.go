package outbound

import (
	"bytes"
	"testing"
)

func TestWithoutReturnPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Return-Path: <a@x.test>\r\nReceived: by x\r\nSubject: s\r\n\r\nReturn-Path: body line\r\n",
			"Received: by x\r\nSubject: s\r\n\r\nReturn-Path: body line\r\n"},
		{"Subject: s\r\nreturn-path:\r\n <folded@x.test>\r\nTo: b\r\n\r\nbody\r\n", "Subject: s\r\nTo: b\r\n\r\nbody\r\n"},
		{"Return-Path: <>\r\nReturn-Path: <a@x.test>\r\n\r\n", "\r\n"},
		{"Subject: none\r\n\r\nbody\r\n", "Subject: none\r\n\r\nbody\r\n"},
		{"Return-Pathological: x\r\n\r\n", "Return-Pathological: x\r\n\r\n"},
		{"Return-Path: <a@x.test>\r\nSubject: no body", "Subject: no body"},
		{"", ""},
	} {
		if got := string(withoutReturnPath([]byte(tc.in))); got != tc.want {
			t.Errorf("%q:\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func FuzzWithoutReturnPath(f *testing.F) {
	f.Add([]byte("Return-Path: <a@x.test>\r\n x\r\nSubject: s\r\n\r\nb"))
	f.Fuzz(func(t *testing.T, in []byte) {
		out := withoutReturnPath(in)
		if len(out) > len(in) {
			t.Fatalf("grew: %q -> %q", in, out)
		}
		if again := withoutReturnPath(out); string(again) != string(out) {
			t.Fatalf("not idempotent: %q -> %q -> %q", in, out, again)
		}
	})
}

// tlsNotRequired reads any header without panicking, and only a header
// field says "No" (not the body).
func FuzzTLSNotRequired(f *testing.F) {
	f.Add([]byte("TLS-Required: No\r\n\r\nbody"))
	f.Add([]byte("Subject: x\r\n tls-required: no\r\n\r\n"))
	f.Add([]byte("\r\n\r\nTLS-Required: No\r\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got := tlsNotRequired(b)
		if got && !bytes.Contains(bytes.ToLower(b), []byte("tls-required")) {
			t.Fatalf("%q: no TLS-Required field, yet true", b)
		}
		if !bytes.Contains(b, []byte("\r\n\r\n")) {
			return
		}
		head, _, _ := bytes.Cut(b, []byte("\r\n\r\n"))
		if got && !bytes.Contains(bytes.ToLower(head), []byte("tls-required")) {
			t.Fatalf("%q: the field is only in the body, yet true", b)
		}
	})
}
