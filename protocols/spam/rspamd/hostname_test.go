package rspamd

import (
	"context"
	"net"
	"testing"
	"time"

	"github.com/surat-mail/surat/protocols/dns"
)

// ptrResolver answers PTR and address look-ups from maps.
type ptrResolver struct {
	dns.None
	ptr   map[string][]string
	hosts map[string][]string
}

func (r ptrResolver) LookupAddr(_ context.Context, ip string) ([]string, error) {
	if names, ok := r.ptr[ip]; ok {
		return names, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: ip, IsNotFound: true}
}

func (r ptrResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if addrs, ok := r.hosts[host]; ok {
		return addrs, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// TestVerifiedName: the Hostname header is the PTR name whose addresses
// include the client's, else "unknown" (as an MTA tells rspamd).
func TestVerifiedName(t *testing.T) {
	res := ptrResolver{
		ptr: map[string][]string{
			"192.0.2.1":   {"liar.example.", "mail.example.com."},
			"192.0.2.2":   {"liar.example."},
			"2001:db8::1": {"v6.example.com."},
		},
		hosts: map[string][]string{
			"mail.example.com.": {"192.0.2.1"},
			"liar.example.":     {"198.51.100.7"},
			"v6.example.com.":   {"2001:db8:0:0::1"},
		},
	}
	ctx := context.Background()
	for ip, want := range map[string]string{
		"192.0.2.1": "mail.example.com", "192.0.2.2": "unknown", "192.0.2.3": "unknown",
		"2001:db8::1": "v6.example.com", "not an ip": "unknown",
	} {
		if got := verifiedName(ctx, res, ip); got != want {
			t.Errorf("verifiedName(%s) = %q, want %q", ip, got, want)
		}
	}

	// Through the check: the header is sent.
	f := startFake(t)
	c := NewCheck(Config{Client: f.client(t), Resolver: res})
	if _, err := runCheck(t, c, mx, testMessage("x", "y"), 10*time.Second); err != nil {
		t.Fatal(err)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if h := f.got[0].Header.Get("Hostname"); h != "mail.example.com" {
		t.Fatalf("Hostname header %q", h)
	}
}
