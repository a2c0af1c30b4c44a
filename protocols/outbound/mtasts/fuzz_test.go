package mtasts

import (
	"testing"
	"time"
)

// A policy that parses formats back to one that parses the same way.
func FuzzParse(f *testing.F) {
	f.Add([]byte("version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmx: *.example.net\r\nmax_age: 86400\r\n"))
	f.Add([]byte("version: STSv1\nmode: none\nmax_age: 0"))
	f.Add([]byte("version:STSv1\nmode:testing\nmx:a\nmax_age:31557600\nx:"))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		if p.MaxAge < 0 || p.MaxAge > MaxMaxAge {
			t.Fatalf("max_age %v", p.MaxAge)
		}
		q, err := Parse(Format(p.Mode, p.MX, p.MaxAge))
		if err != nil {
			t.Fatalf("reformatted policy does not parse: %v", err)
		}
		if q.Mode != p.Mode || q.MaxAge != p.MaxAge/time.Second*time.Second || len(q.MX) != len(p.MX) {
			t.Fatalf("%+v became %+v", p, q)
		}
		for _, m := range p.MX {
			host := m
			if len(m) > 2 && m[:2] == "*." {
				host = "x" + m[1:]
			}
			if !p.Matches(host) {
				t.Fatalf("pattern %q does not match %q", m, host)
			}
		}
	})
}

func FuzzParseRecord(f *testing.F) {
	f.Add("v=STSv1; id=20160831085700Z;")
	f.Add("v=STSv1;id=;")
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRecord(s)
		if err == nil && (r.ID == "" || len(r.ID) > 32) {
			t.Fatalf("%q gave id %q", s, r.ID)
		}
	})
}
