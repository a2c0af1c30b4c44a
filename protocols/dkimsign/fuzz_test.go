package dkimsign

import (
	"errors"
	"testing"
)

// owners owns ann's addresses and her alias.
type owners map[string]string

func (o owners) ResolveAddress(a string) (string, error) {
	if u, ok := o[a]; ok {
		return u, nil
	}
	return "", errNotFound
}

var errNotFound = errors.New("not found")

// FuzzCheckFrom: any header gets an answer, never a panic, and a header
// accepted for ann names only her addresses.
func FuzzCheckFrom(f *testing.F) {
	for _, s := range []string{"From: ann@example.test\r\n", "From: a@b, c@d\r\n", "From:\r\n", "From: \"x\" <ann@example.test>\r\nFrom: y\r\n",
		"From: =?utf-8?b?w6k=?= <ann@example.test>\r\n", "\r\n", "From: (c) ann@example.test (d)\r\n", "From: g: ann@example.test;\r\n"} {
		f.Add([]byte(s))
	}
	o := owners{"ann@example.test": "ann@example.test", "sales@example.test": "ann@example.test"}
	f.Fuzz(func(t *testing.T, header []byte) {
		err := CheckFrom(header, "ann@example.test", o)
		if err != nil {
			return
		}
		list, ferr := fromAddresses(header)
		if ferr != nil || len(list) == 0 {
			t.Fatalf("accepted %q, but its From does not parse: %v", header, ferr)
		}
		for _, a := range list {
			if o[a.String()] != "ann@example.test" {
				t.Fatalf("accepted %q with From %s", header, a)
			}
		}
	})
}

// FuzzSign: any message, in any pieces, is signed or refused, never a
// panic or a hang.
func FuzzSign(f *testing.F) {
	f.Add([]byte(testMessage), uint8(7))
	f.Add([]byte("From: a@b\n\nbody"), uint8(1))
	f.Add([]byte("no header at all"), uint8(3))
	f.Add([]byte("\r\n\r\n"), uint8(2))
	f.Fuzz(func(t *testing.T, msg []byte, piece uint8) {
		s, err := New(domainRecord(t))
		if err != nil {
			t.Fatal(err)
		}
		m := s.Start()
		n := int(piece) + 1
		for i := 0; i < len(msg); i += n {
			if _, err := m.Write(msg[i:min(i+n, len(msg))]); err != nil {
				break
			}
		}
		_, _ = m.Fields()
	})
}
