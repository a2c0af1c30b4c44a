package outbound

import "testing"

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
