package dnstest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
	"golang.org/x/net/dns/dnsmessage"
)

// ask sends one query with miekg/dns's own client, so these tests check the
// server against an independent implementation of the wire format.
func ask(t *testing.T, srv *Server, network, name string, qtype uint16, edns bool) *dns.Msg {
	t.Helper()
	m := new(dns.Msg)
	m.SetQuestion(dns.Fqdn(name), qtype)
	if edns {
		m.SetEdns0(1232, true)
	}
	c := &dns.Client{Net: network, Timeout: 2 * time.Second}
	resp, _, err := c.Exchange(m, srv.Addr())
	if err != nil {
		t.Fatalf("%s %s over %s: %v", dns.TypeToString[qtype], name, network, err)
	}
	return resp
}

func answers(m *dns.Msg) []string {
	var out []string
	for _, rr := range m.Answer {
		h := rr.Header()
		out = append(out, strings.TrimPrefix(rr.String(), h.String()))
	}
	return out
}

func TestAnswers(t *testing.T) {
	srv := Start(t)
	srv.Add("example.test", "A", "192.0.2.1")
	srv.Add("example.test", "AAAA", "2001:db8::1")
	srv.Add("Example.Test.", "MX", "10 mx.example.test.")
	srv.Add("example.test", "TXT", "v=spf1 -all")
	srv.Add("192.0.2.1", "PTR", "mx.example.test.")
	srv.Add("_25._tcp.mx.example.test", "TLSA", "3 1 1 0123456789abcdef")
	srv.Add("www.example.test", "CNAME", "example.test.")

	long := strings.Repeat("a", 300)
	srv.Add("long.example.test", "TXT", long)

	tests := []struct {
		name  string
		qtype uint16
		rcode int
		want  []string
	}{
		{"example.test", dns.TypeA, dns.RcodeSuccess, []string{"192.0.2.1"}},
		{"EXAMPLE.test", dns.TypeAAAA, dns.RcodeSuccess, []string{"2001:db8::1"}},
		{"example.test", dns.TypeMX, dns.RcodeSuccess, []string{"10 mx.example.test."}},
		{"example.test", dns.TypeTXT, dns.RcodeSuccess, []string{`"v=spf1 -all"`}},
		{"1.2.0.192.in-addr.arpa", dns.TypePTR, dns.RcodeSuccess, []string{"mx.example.test."}},
		{"_25._tcp.mx.example.test", dns.TypeTLSA, dns.RcodeSuccess, []string{"3 1 1 0123456789abcdef"}},
		{"long.example.test", dns.TypeTXT, dns.RcodeSuccess, []string{`"` + long[:255] + `" "` + long[255:] + `"`}},
		// A CNAME is followed to the target's records.
		{"www.example.test", dns.TypeA, dns.RcodeSuccess, []string{"example.test.", "192.0.2.1"}},
		{"www.example.test", dns.TypeCNAME, dns.RcodeSuccess, []string{"example.test."}},
		// NODATA: the name exists, the type does not.
		{"example.test", dns.TypeSRV, dns.RcodeSuccess, nil},
		// NODATA for an empty non-terminal (RFC 8020).
		{"_tcp.mx.example.test", dns.TypeTXT, dns.RcodeSuccess, nil},
		// NXDOMAIN: the name does not exist.
		{"missing.example.test", dns.TypeA, dns.RcodeNameError, nil},
	}
	for _, tc := range tests {
		t.Run(dns.TypeToString[tc.qtype]+" "+tc.name, func(t *testing.T) {
			for _, network := range []string{"udp", "tcp"} {
				resp := ask(t, srv, network, tc.name, tc.qtype, true)
				if resp.Rcode != tc.rcode {
					t.Errorf("%s: rcode %s, want %s", network, dns.RcodeToString[resp.Rcode], dns.RcodeToString[tc.rcode])
				}
				if got := answers(resp); fmt.Sprint(got) != fmt.Sprint(tc.want) {
					t.Errorf("%s: answers %q, want %q", network, got, tc.want)
				}
				if len(tc.want) == 0 {
					// RFC 2308 §3: the SOA for negative caching.
					if len(resp.Ns) != 1 || resp.Ns[0].Header().Rrtype != dns.TypeSOA {
						t.Errorf("%s: negative answer without SOA: %v", network, resp.Ns)
					}
				}
			}
		})
	}
}

func TestCNAMEChain(t *testing.T) {
	srv := Start(t)
	srv.Add("a.test", "CNAME", "b.test.")
	srv.Add("b.test", "CNAME", "c.test.")
	srv.Add("c.test", "TXT", "end")
	srv.Add("dangling.test", "CNAME", "nowhere.test.")
	srv.Add("loop1.test", "CNAME", "loop2.test.")
	srv.Add("loop2.test", "CNAME", "loop1.test.")

	resp := ask(t, srv, "udp", "a.test", dns.TypeTXT, true)
	if got := answers(resp); fmt.Sprint(got) != `[b.test. c.test. "end"]` {
		t.Errorf("chain: %q", got)
	}
	// RFC 6604 §2: the RCODE is about the last name of the chain.
	resp = ask(t, srv, "udp", "dangling.test", dns.TypeTXT, true)
	if resp.Rcode != dns.RcodeNameError || len(resp.Answer) != 1 {
		t.Errorf("dangling: rcode %s, answers %q", dns.RcodeToString[resp.Rcode], answers(resp))
	}
	resp = ask(t, srv, "udp", "loop1.test", dns.TypeTXT, true)
	if len(resp.Answer) != 8 {
		t.Errorf("loop: %d answers, want the 8-link bound", len(resp.Answer))
	}

	srv.SetChaseCNAME(false)
	resp = ask(t, srv, "udp", "a.test", dns.TypeTXT, true)
	if got := answers(resp); fmt.Sprint(got) != `[b.test.]` || resp.Rcode != dns.RcodeSuccess {
		t.Errorf("unchased: %s %q", dns.RcodeToString[resp.Rcode], got)
	}
}

func TestFaults(t *testing.T) {
	srv := Start(t)
	srv.Add("example.test", "A", "192.0.2.1")
	srv.ServFail("example.test")
	for _, qt := range []uint16{dns.TypeA, dns.TypeTXT, dns.TypeMX} {
		if r := ask(t, srv, "udp", "example.test", qt, false); r.Rcode != dns.RcodeServerFailure {
			t.Errorf("ServFail %s: %s", dns.TypeToString[qt], dns.RcodeToString[r.Rcode])
		}
	}
	// Only the marked name fails.
	if r := ask(t, srv, "udp", "other.test", dns.TypeA, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("other name: %s", dns.RcodeToString[r.Rcode])
	}
	srv.ServFail("example.test", "AAAA")
	if r := ask(t, srv, "udp", "example.test", dns.TypeAAAA, false); r.Rcode != dns.RcodeServerFailure {
		t.Errorf("ServFail AAAA: %s", dns.RcodeToString[r.Rcode])
	}
	if r := ask(t, srv, "udp", "example.test", dns.TypeA, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("ServFail AAAA, then A: %s %v", dns.RcodeToString[r.Rcode], r.Answer)
	}
	srv.Refuse("example.test")
	if r := ask(t, srv, "tcp", "example.test", dns.TypeA, false); r.Rcode != dns.RcodeRefused {
		t.Errorf("Refuse: %s", dns.RcodeToString[r.Rcode])
	}
	srv.Restore("example.test")
	if r := ask(t, srv, "udp", "example.test", dns.TypeA, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 1 {
		t.Errorf("Restore: %s %v", dns.RcodeToString[r.Rcode], r.Answer)
	}

	srv.Drop("example.test")
	m := new(dns.Msg)
	m.SetQuestion("example.test.", dns.TypeA)
	c := &dns.Client{Net: "udp", Timeout: 200 * time.Millisecond}
	if _, _, err := c.Exchange(m, srv.Addr()); err == nil {
		t.Error("Drop: got an answer")
	}
}

func TestAD(t *testing.T) {
	srv := Start(t)
	srv.Add("_25._tcp.mx.example.test", "TLSA", "3 1 1 00ff")
	srv.Add("_25._tcp.mx.unsigned.test", "TLSA", "3 1 1 00ff")
	q := func(name string, do, ad bool) bool {
		m := new(dns.Msg)
		m.SetQuestion(dns.Fqdn(name), dns.TypeTLSA)
		m.AuthenticatedData = ad
		if do {
			m.SetEdns0(1232, true)
		}
		c := &dns.Client{Timeout: 2 * time.Second}
		resp, _, err := c.Exchange(m, srv.Addr())
		if err != nil {
			t.Fatal(err)
		}
		return resp.AuthenticatedData
	}
	if q("_25._tcp.mx.example.test", true, true) {
		t.Error("AD set before SetAD(true)")
	}
	srv.SetAD(true)
	srv.SetADFor("_25._tcp.mx.unsigned.test", false)
	if !q("_25._tcp.mx.example.test", true, false) || !q("_25._tcp.mx.example.test", false, true) {
		t.Error("AD not set for a query with DO or AD")
	}
	// RFC 6840 §5.7: not for a requester that asked for neither.
	if q("_25._tcp.mx.example.test", false, false) {
		t.Error("AD set for a query with neither DO nor AD")
	}
	if q("_25._tcp.mx.unsigned.test", true, true) {
		t.Error("AD set for a name SetADFor(false)")
	}
	asked := srv.Asked()
	if len(asked) == 0 || !asked[0].DO || !asked[0].AD {
		t.Errorf("query log: %+v", asked)
	}
}

// An answer that does not fit the client's UDP buffer comes back TC; the
// same question over TCP gets all of it.
func TestTruncation(t *testing.T) {
	srv := Start(t)
	for i := range 40 {
		srv.Add("big.test", "TXT", fmt.Sprintf("record %02d %s", i, strings.Repeat("x", 60)))
	}
	udp := ask(t, srv, "udp", "big.test", dns.TypeTXT, true)
	if !udp.Truncated || len(udp.Answer) >= 40 {
		t.Errorf("UDP: TC=%v with %d answers", udp.Truncated, len(udp.Answer))
	}
	udp.Compress = true
	if n, _ := udp.Pack(); len(n) > 1232 {
		t.Errorf("UDP answer of %d bytes for a 1232-byte buffer", len(n))
	}
	tcp := ask(t, srv, "tcp", "big.test", dns.TypeTXT, true)
	if tcp.Truncated || len(tcp.Answer) != 40 {
		t.Errorf("TCP: TC=%v with %d answers", tcp.Truncated, len(tcp.Answer))
	}
	// Without EDNS0 the limit is 512 bytes (RFC 1035 §4.2.1).
	srv.Add("mid.test", "TXT", strings.Repeat("y", 600))
	if r := ask(t, srv, "udp", "mid.test", dns.TypeTXT, false); !r.Truncated {
		t.Error("a 600-byte answer fit in a 512-byte message")
	}
	if r := ask(t, srv, "udp", "mid.test", dns.TypeTXT, true); r.Truncated {
		t.Error("a 600-byte answer did not fit a 1232-byte buffer")
	}
	srv.SetMaxUDP(512)
	if r := ask(t, srv, "udp", "mid.test", dns.TypeTXT, true); !r.Truncated {
		t.Error("SetMaxUDP(512) did not truncate")
	}
	if got := srv.Count("big.test", "TXT"); got != 2 {
		t.Errorf("Count(big.test TXT) = %d, want 2", got)
	}
	var sawTCP bool
	for _, q := range srv.Asked() {
		sawTCP = sawTCP || (q.TCP && q.Name == "big.test.")
	}
	if !sawTCP {
		t.Error("query log has no TCP query")
	}
}

func TestRemoveTTLAndZone(t *testing.T) {
	srv := Start(t)
	srv.Add("example.test", "A", "192.0.2.1")
	srv.Add("example.test", "TXT", "hello")
	srv.SetTTL(42)
	if r := ask(t, srv, "udp", "example.test", dns.TypeA, false); len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 42 {
		t.Errorf("SetTTL: %v", r.Answer)
	}
	srv.Remove("example.test", "A")
	if r := ask(t, srv, "udp", "example.test", dns.TypeA, false); r.Rcode != dns.RcodeSuccess || len(r.Answer) != 0 {
		t.Errorf("after Remove A: %s %v", dns.RcodeToString[r.Rcode], r.Answer)
	}
	srv.Remove("example.test", "")
	if r := ask(t, srv, "udp", "example.test", dns.TypeTXT, false); r.Rcode != dns.RcodeNameError {
		t.Errorf("after Remove all: %s", dns.RcodeToString[r.Rcode])
	}
	srv.SetNegativeTTL(7)
	if r := ask(t, srv, "udp", "example.test", dns.TypeTXT, false); len(r.Ns) != 1 || r.Ns[0].(*dns.SOA).Minttl != 7 {
		t.Errorf("SetNegativeTTL: %v", r.Ns)
	}

	zone := `ed._domainkey.example.test. IN TXT "v=DKIM1; k=ed25519; " "p=abc"
example.test. 3600 IN MX 10 mx.example.test.
_dmarc.example.test. 600 IN TXT "v=DMARC1; p=reject"
`
	if err := srv.AddZone(zone); err != nil {
		t.Fatal(err)
	}
	r := ask(t, srv, "udp", "ed._domainkey.example.test", dns.TypeTXT, false)
	if len(r.Answer) != 1 || strings.Join(r.Answer[0].(*dns.TXT).Txt, "") != "v=DKIM1; k=ed25519; p=abc" || r.Answer[0].Header().Ttl != 42 {
		t.Errorf("zone TXT: %v", r.Answer)
	}
	if r := ask(t, srv, "udp", "example.test", dns.TypeMX, false); len(r.Answer) != 1 || r.Answer[0].Header().Ttl != 3600 {
		t.Errorf("zone MX: %v", r.Answer)
	}
	if err := srv.AddZone("bad.test. IN MX nonsense"); err == nil {
		t.Error("AddZone accepted a bad line")
	}
	srv.ResetAsked()
	if n := len(srv.Asked()); n != 0 {
		t.Errorf("ResetAsked left %d", n)
	}
}

func TestConcurrent(t *testing.T) {
	srv := Start(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("n%d.test", i)
			for j := range 20 {
				srv.Add(name, "A", fmt.Sprintf("192.0.2.%d", j))
				m := new(dns.Msg)
				m.SetQuestion(name+".", dns.TypeA)
				c := &dns.Client{Timeout: 2 * time.Second}
				if _, _, err := c.Exchange(m, srv.Addr()); err != nil {
					t.Error(err)
					return
				}
				srv.Remove(name, "A")
				_ = srv.Asked()
			}
		}()
	}
	wg.Wait()
	if n := len(srv.Asked()); n != 160 {
		t.Errorf("%d queries logged, want 160", n)
	}
}

func TestParseRecord(t *testing.T) {
	tests := []struct {
		name, typ, value string
		want             string // rr.String(), "" for an error
	}{
		{"example.test", "a", "192.0.2.1", "example.test.\t300\tIN\tA\t192.0.2.1"},
		{"example.test", "MX", "10 mx.example.test.", "example.test.\t300\tIN\tMX\t10 mx.example.test."},
		{"example.test", "MX", "10 mx.example.test", "example.test.\t300\tIN\tMX\t10 mx.example.test."},
		{"x.test", "TLSA", "3 1 1 ABCDEF", "x.test.\t300\tIN\tTLSA\t3 1 1 abcdef"},
		{"x.test", "TXT", `has "quotes" ; and semicolons`, "x.test.\t300\tIN\tTXT\t\"has \\\"quotes\\\" ; and semicolons\""},
		{"2001:db8::1", "PTR", "h.test.", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.\t300\tIN\tPTR\th.test."},
		{"x.test", "A", "not-an-ip", ""},
		{"x.test", "MX", "mx.example.test.", ""},
		{"x.test", "TLSA", "3 1 1 zz", ""},
		{"x.test", "BOGUS", "1", ""},
		{"x.test", "ANY", "1", ""},
		{"", "A", "192.0.2.1", ""},
		{"x.test", "A", "192.0.2.1\nevil.test. IN A 192.0.2.2", ""},
		{"x.test", "A", "192.0.2.1 ; comment", ""},
	}
	for _, tc := range tests {
		rr, err := ParseRecord(tc.name, tc.typ, tc.value)
		switch {
		case tc.want == "" && err == nil:
			t.Errorf("ParseRecord(%q, %q, %q) = %v, want error", tc.name, tc.typ, tc.value, rr)
		case tc.want != "" && err != nil:
			t.Errorf("ParseRecord(%q, %q, %q): %v", tc.name, tc.typ, tc.value, err)
		case tc.want != "" && rr.String() != tc.want:
			t.Errorf("ParseRecord(%q, %q, %q) = %q, want %q", tc.name, tc.typ, tc.value, rr.String(), tc.want)
		}
	}
}

// FuzzParseRecord checks that no input panics and that what parses packs
// into a message and comes back as the same record.
func FuzzParseRecord(f *testing.F) {
	f.Add("example.test", "MX", "10 mx.example.test.")
	f.Add("example.test", "TXT", strings.Repeat("z", 600))
	f.Add("x.test", "TXT", "a\\b\"c\x00\xff")
	f.Add("x.test", "TLSA", "3 1 1 abcdef")
	f.Add("192.0.2.1", "PTR", "h.test.")
	f.Add("x.test", "AAAA", "2001:db8::1")
	f.Add("x.test", "CNAME", "y.test")
	f.Fuzz(func(t *testing.T, name, typ, value string) {
		rr, err := ParseRecord(name, typ, value)
		if err != nil {
			return
		}
		m := new(dns.Msg)
		m.SetQuestion("q.test.", rr.Header().Rrtype)
		m.Answer = []dns.RR{rr}
		b, err := m.Pack()
		if err != nil {
			return // e.g. a name too long for the wire
		}
		var back dns.Msg
		if err := back.Unpack(b); err != nil {
			t.Fatalf("unpack of packed %v: %v", rr, err)
		}
		if len(back.Answer) != 1 {
			t.Fatalf("%v came back as %v", rr, back.Answer)
		}
		if b2, err := back.Pack(); err != nil || string(b2) != string(b) {
			t.Fatalf("%v came back as %v, which packs differently (%v)", rr, back.Answer, err)
		}
		if rr.Header().Rrtype != dns.TypeTXT {
			return
		}
		// The text on the wire, read by another implementation, is the
		// value, in strings of at most 255 bytes.
		var p dnsmessage.Parser
		if _, err := p.Start(b); err != nil {
			t.Fatal(err)
		}
		if err := p.SkipAllQuestions(); err != nil {
			t.Fatal(err)
		}
		if _, err := p.AnswerHeader(); err != nil {
			t.Fatal(err)
		}
		txt, err := p.TXTResource()
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(txt.TXT, ""); got != value {
			t.Fatalf("TXT %q went on the wire as %q", value, got)
		}
		for _, s := range txt.TXT {
			if len(s) > 255 {
				t.Fatalf("TXT string of %d bytes", len(s))
			}
		}
	})
}

// TestListen: a server started outside a test answers, reports bad
// arguments by panicking, and stops answering once closed.
func TestListen(t *testing.T) {
	srv, err := Listen()
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.AddZone("sender.test. 60 IN TXT \"v=spf1 ip4:127.0.0.0/8 -all\""); err != nil {
		t.Fatal(err)
	}
	srv.Add("sender.test", "MX", "10 mx.sender.test.")
	for _, network := range []string{"udp", "tcp"} {
		resp := ask(t, srv, network, "sender.test", dns.TypeTXT, false)
		if got := answers(resp); len(got) != 1 || got[0] != `"v=spf1 ip4:127.0.0.0/8 -all"` {
			t.Errorf("TXT over %s: %q", network, got)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("Add with a bad value did not panic without a test")
			}
		}()
		srv.Add("sender.test", "MX", "not an MX")
	}()
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	if err := srv.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	m := new(dns.Msg)
	m.SetQuestion("sender.test.", dns.TypeTXT)
	c := &dns.Client{Net: "tcp", Timeout: 500 * time.Millisecond}
	if _, _, err := c.Exchange(m, srv.Addr()); err == nil {
		t.Error("the closed server still answers over TCP")
	}
}
