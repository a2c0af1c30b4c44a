package dns

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

func TestNoneNeverDials(t *testing.T) {
	ctx := context.Background()
	var r Resolver = None{}
	if _, err := r.LookupMX(ctx, "example.com"); !errors.Is(err, ErrDisabled) {
		t.Errorf("LookupMX err = %v", err)
	}
	if _, err := r.LookupHost(ctx, "example.com"); !errors.Is(err, ErrDisabled) {
		t.Errorf("LookupHost err = %v", err)
	}
	if _, err := r.LookupTXT(ctx, "example.com"); !errors.Is(err, ErrDisabled) {
		t.Errorf("LookupTXT err = %v", err)
	}
	if _, err := r.LookupAddr(ctx, "192.0.2.1"); !errors.Is(err, ErrDisabled) {
		t.Errorf("LookupAddr err = %v", err)
	}
	if _, err := r.LookupIPAddr(ctx, "example.com"); !errors.Is(err, ErrDisabled) {
		t.Errorf("LookupIPAddr err = %v", err)
	}
	if _, secure, err := r.LookupTLSA(ctx, "_25._tcp.example.com"); !errors.Is(err, ErrDisabled) || secure {
		t.Errorf("LookupTLSA = %v, %v", secure, err)
	}
	if _, err := r.Lookup(ctx, "example.com", 1); !errors.Is(err, ErrDisabled) {
		t.Errorf("Lookup err = %v", err)
	}
	// None has no fields and no way to reach the network: the zero value is
	// the whole implementation.
}

func TestParse(t *testing.T) {
	tests := []struct {
		in      string
		want    string // type name
		wantErr bool
	}{
		{"", "none", false},
		{"none", "none", false},
		{"NONE", "none", false},
		{"system", "system", false},
		{"127.0.0.1:53", "client", false},
		{"[::1]:5353", "client", false},
		{"dns.example:53", "client", false},
		{"127.0.0.1", "", true},
		{":53", "", true},
		{"127.0.0.1:0", "", true},
		{"127.0.0.1:99999", "", true},
		{"127.0.0.1:dns", "", true},
	}
	for _, tc := range tests {
		r, err := Parse(tc.in)
		if tc.wantErr {
			if err == nil {
				t.Errorf("Parse(%q) = %T, want error", tc.in, r)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tc.in, err)
			continue
		}
		var got string
		switch r.(type) {
		case None:
			got = "none"
		case System:
			got = "system"
		case *Client:
			got = "client"
		}
		if got != tc.want {
			t.Errorf("Parse(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// serveOneMX answers every MX query with "10 mx.example.test." and counts
// queries; everything else gets NXDOMAIN.
func serveOneMX(t *testing.T) (addr string, queries chan string) {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	queries = make(chan string, 16)
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			select {
			case queries <- q.Type.String() + " " + q.Name.String():
			default:
			}
			rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
			if q.Type != dnsmessage.TypeMX || q.Name.String() != "example.test." {
				rh.RCode = dnsmessage.RCodeNameError
			}
			b := dnsmessage.NewBuilder(nil, rh)
			b.EnableCompression()
			_ = b.StartQuestions()
			_ = b.Question(q)
			_ = b.StartAnswers()
			if rh.RCode == dnsmessage.RCodeSuccess {
				_ = b.MXResource(
					dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeMX, Class: dnsmessage.ClassINET, TTL: 60},
					dnsmessage.MXResource{Pref: 10, MX: dnsmessage.MustNewName("mx.example.test.")})
			}
			out, err := b.Finish()
			if err != nil {
				continue
			}
			_, _ = pc.WriteTo(out, from)
		}
	}()
	return pc.LocalAddr().String(), queries
}

func TestClientQueriesOnlyItsServer(t *testing.T) {
	addr, queries := serveOneMX(t)
	c, err := New(addr)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	mx, err := c.LookupMX(ctx, "example.test")
	if err != nil {
		t.Fatalf("LookupMX: %v", err)
	}
	if len(mx) != 1 || mx[0].Host != "mx.example.test." || mx[0].Pref != 10 {
		t.Fatalf("MX = %+v", mx)
	}
	select {
	case q := <-queries:
		if q != "TypeMX example.test." {
			t.Errorf("server saw query %q (want an absolute name, no search list)", q)
		}
	default:
		t.Error("the test server saw no query")
	}
	if _, err := c.LookupMX(ctx, "missing.test"); err == nil {
		t.Error("LookupMX(missing.test) succeeded")
	} else {
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Errorf("LookupMX(missing.test) err = %v, want not found", err)
		}
	}
	if got, err := c.LookupHost(ctx, "192.0.2.7"); err != nil || len(got) != 1 || got[0] != "192.0.2.7" {
		t.Errorf("LookupHost(IP) = %v, %v", got, err)
	}
}
