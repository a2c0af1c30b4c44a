// Package dnstest runs a DNS server inside a test process, so that every
// test that needs DNS (MX routing, SPF, DKIM, DMARC, MTA-STS, DANE, PTR)
// answers from records the test wrote, and no test ever does a real look-up.
//
// The server listens on 127.0.0.1 on one port over UDP and TCP (Addr is the
// value for --resolver) and answers like a recursive resolver would:
// NXDOMAIN for a name that has no records and no names below it, NOERROR
// with an empty answer (NODATA) for a name without the asked type, CNAME chains followed
// within its own data, the AD bit when told to act as a validating resolver,
// SERVFAIL, REFUSED or silence for the names a test marks so, and a TC
// answer over UDP when the answer does not fit the client's buffer, so the
// client retries over TCP. Every query is logged (Asked).
//
//	srv := dnstest.Start(t)
//	srv.Add("example.test", "MX", "10 mx.example.test.")
//	srv.Add("example.test", "TXT", "v=spf1 ip4:192.0.2.0/24 -all")
//	r, _ := dns.New(srv.Addr())
//
// A dns.Client caches what it is told for the records' TTL (DefaultTTL) and
// not-found answers for the SOA minimum (DefaultNegativeTTL): a test that
// changes a record after looking it up asks again with dns.Fresh(ctx), or
// uses a new Client, or sets SetTTL(0) / SetNegativeTTL(0) first.
//
// A Server is safe for concurrent use; it stops when the test ends. Listen
// starts one outside a test (bench/authload answers a cluster's look-ups
// with it), and Close stops that. It is for tests and benchmarks only: it
// has no limits and trusts every query.
package dnstest

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/miekg/dns"
)

// DefaultTTL is the TTL of records added with Add until SetTTL changes it.
const DefaultTTL = 300

// DefaultNegativeTTL is the SOA MINIMUM of the negative answers (RFC 2308
// §5) until SetNegativeTTL changes it.
const DefaultNegativeTTL = 60

// Query is one question the server received.
type Query struct {
	Name string // absolute, lower case: "example.test."
	Type string // "MX", "TXT", ...
	TCP  bool   // asked over TCP (a retry after TC, or a TCP-only client)
	DO   bool   // the EDNS0 DO bit was set (RFC 3225)
	AD   bool   // the AD bit was set in the query (RFC 6840 §5.7)
}

func (q Query) String() string {
	s := q.Type + " " + q.Name
	if q.TCP {
		s += " tcp"
	}
	return s
}

// fault is what a marked name answers instead of its records.
type fault int

const (
	faultNone fault = iota
	faultServFail
	faultRefused
	faultDrop
)

// faultRule is a fault for some types at a name (types nil: every type).
type faultRule struct {
	fault fault
	types map[uint16]bool
}

func (r faultRule) applies(qtype uint16) fault {
	if r.types == nil || r.types[qtype] {
		return r.fault
	}
	return faultNone
}

type record struct {
	rr         dns.RR
	defaultTTL bool // follows SetTTL at answer time
}

// Server is an in-process DNS server. Create it with Start (in a test) or
// Listen.
type Server struct {
	t    testing.TB // nil: started by Listen
	addr string
	udp  *dns.Server
	tcp  *dns.Server

	closeOnce sync.Once
	closeErr  error

	mu      sync.Mutex
	records map[string][]record // canonical name → records of every type
	faults  map[string]faultRule
	ad      bool
	adFor   map[string]bool
	ttl     uint32
	negTTL  uint32
	maxUDP  int
	chase   bool
	asked   []Query
}

// Start starts a server on 127.0.0.1 (UDP and TCP on the same port) and
// stops it when the test ends. Add, AddTXT and the fault setters report
// bad arguments through t.
func Start(t testing.TB) *Server {
	t.Helper()
	s, err := Listen()
	if err != nil {
		t.Fatalf("%v", err)
	}
	s.t = t
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return s
}

// Listen starts a server on 127.0.0.1 (UDP and TCP on the same port)
// outside a test, for a benchmark or a tool; Close stops it. Without a
// test to report to, Add, AddTXT and the fault setters panic on bad
// arguments, as regexp.MustCompile does: AddZone and ParseRecord return
// the error instead.
func Listen() (*Server, error) {
	s := &Server{
		records: make(map[string][]record),
		faults:  make(map[string]faultRule),
		adFor:   make(map[string]bool),
		ttl:     DefaultTTL,
		negTTL:  DefaultNegativeTTL,
		chase:   true,
	}
	pc, ln, err := listen()
	if err != nil {
		return nil, fmt.Errorf("dnstest: %w", err)
	}
	s.addr = pc.LocalAddr().String()
	s.udp = &dns.Server{PacketConn: pc, Handler: s, UDPSize: dns.MaxMsgSize}
	s.tcp = &dns.Server{Listener: ln, Handler: s}
	for i, srv := range []*dns.Server{s.udp, s.tcp} {
		started := make(chan struct{})
		srv.NotifyStartedFunc = func() { close(started) }
		errc := make(chan error, 1)
		go func() { errc <- srv.ActivateAndServe() }()
		select {
		case <-started:
		case err := <-errc:
			if i == 1 {
				_ = s.udp.Shutdown()
			} else {
				pc.Close()
			}
			ln.Close()
			return nil, fmt.Errorf("dnstest: serve: %w", err)
		}
	}
	return s, nil
}

// Close stops the server; it waits at most 5 seconds for queries being
// answered. Later calls do nothing.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.closeErr = errors.Join(s.udp.ShutdownContext(ctx), s.tcp.ShutdownContext(ctx))
		if s.closeErr != nil {
			s.closeErr = fmt.Errorf("dnstest: close: %w", s.closeErr)
		}
	})
	return s.closeErr
}

// errorf reports a bad argument: to the test when there is one (Start),
// as a panic otherwise (Listen).
func (s *Server) errorf(format string, args ...any) {
	if s.t == nil {
		panic(fmt.Sprintf(format, args...))
	}
	s.t.Helper()
	// Errorf, not Fatalf: the setters may be called from any goroutine.
	s.t.Errorf(format, args...)
}

// listen binds UDP on a free port, then TCP on the same port; another
// process may hold that TCP port, so it tries a few ports.
func listen() (net.PacketConn, net.Listener, error) {
	var last error
	for range 20 {
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			return nil, nil, err
		}
		ln, err := net.Listen("tcp", pc.LocalAddr().String())
		if err == nil {
			return pc, ln, nil
		}
		pc.Close()
		last = err
	}
	return nil, nil, fmt.Errorf("no port free for both UDP and TCP: %w", last)
}

// Addr is the server's HOST:PORT, the value for --resolver or dns.New.
func (s *Server) Addr() string { return s.addr }

// Add adds one record, given as a zone file would give its data, and fails
// the test (panics, after Listen) if value does not parse:
//
//	srv.Add("example.test", "A", "192.0.2.1")
//	srv.Add("example.test", "AAAA", "2001:db8::1")
//	srv.Add("example.test", "MX", "10 mx.example.test.")
//	srv.Add("example.test", "TXT", "v=spf1 -all")         // the text itself, unquoted
//	srv.Add("192.0.2.1", "PTR", "mx.example.test.")        // an IP is turned into its in-addr.arpa/ip6.arpa name
//	srv.Add("www.example.test", "CNAME", "example.test.")
//	srv.Add("_25._tcp.mx.example.test", "TLSA", "3 1 1 0123abcd...")
//
// TXT text longer than 255 bytes is split into 255-byte strings, as a zone
// file editor would (RFC 7208 §3.3); AddTXT sets the strings one by one.
// Names are absolute whether or not they end in a dot. The record's TTL is
// the one SetTTL sets (DefaultTTL), read when the record is answered.
func (s *Server) Add(name, typ, value string) {
	rr, err := ParseRecord(name, typ, value)
	if err != nil {
		s.errorf("dnstest: Add(%q, %q, %q): %v", name, typ, value, err)
		return
	}
	s.add(record{rr: rr, defaultTTL: true})
}

// AddTXT adds one TXT record made of the given character-strings, each at
// most 255 bytes (RFC 1035 §3.3.14), for tests of how strings are joined.
func (s *Server) AddTXT(name string, strs ...string) {
	for _, x := range strs {
		if len(x) > 255 {
			s.errorf("dnstest: AddTXT(%q): a string of %d bytes (at most 255)", name, len(x))
			return
		}
	}
	txt := make([]string, len(strs))
	for i, x := range strs {
		txt[i] = escapeTXT(x)
	}
	rr := &dns.TXT{Hdr: dns.RR_Header{Name: canonical(name), Rrtype: dns.TypeTXT, Class: dns.ClassINET}, Txt: txt}
	s.add(record{rr: rr, defaultTTL: true})
}

// AddZone adds records written in zone-file form, one a line, with their
// own TTLs ("example.test. 3600 IN MX 10 mx.example.test."), such as what
// `surat domain records` prints. As in a zone file (RFC 1035 §5.1), a line
// without a TTL takes the one before it; the first takes SetTTL's.
// Relative names are relative to the root.
// It returns an error for the first line that does not parse, and adds
// nothing then.
func (s *Server) AddZone(text string) error {
	zp := dns.NewZoneParser(strings.NewReader(text), ".", "")
	zp.SetDefaultTTL(s.TTL())
	var rrs []dns.RR
	for rr, ok := zp.Next(); ok; rr, ok = zp.Next() {
		rr.Header().Name = canonical(rr.Header().Name)
		rrs = append(rrs, rr)
	}
	if err := zp.Err(); err != nil {
		return fmt.Errorf("dnstest: zone: %w", err)
	}
	for _, rr := range rrs {
		s.add(record{rr: rr})
	}
	return nil
}

func (s *Server) add(r record) {
	s.mu.Lock()
	defer s.mu.Unlock()
	name := r.rr.Header().Name
	s.records[name] = append(s.records[name], r)
}

// Remove removes every record of type typ at name; typ "" or "ANY" removes
// all of them, so the name answers NXDOMAIN again.
func (s *Server) Remove(name, typ string) {
	name = ownerName(name, typ)
	all := typ == "" || strings.EqualFold(typ, "ANY")
	t := dns.StringToType[strings.ToUpper(typ)]
	s.mu.Lock()
	defer s.mu.Unlock()
	if all {
		delete(s.records, name)
		return
	}
	kept := s.records[name][:0]
	for _, r := range s.records[name] {
		if r.rr.Header().Rrtype != t {
			kept = append(kept, r)
		}
	}
	if len(kept) == 0 {
		delete(s.records, name)
		return
	}
	s.records[name] = kept
}

// ServFail makes every query for name answer SERVFAIL (what a resolver
// says when the authoritative servers fail or DNSSEC validation fails)
// until Restore; with types given ("AAAA"), only queries of those types.
func (s *Server) ServFail(name string, types ...string) { s.setFault(name, faultServFail, types) }

// Refuse makes queries for name (of types, if given) answer REFUSED until
// Restore.
func (s *Server) Refuse(name string, types ...string) { s.setFault(name, faultRefused, types) }

// Drop makes the server ignore queries for name (of types, if given), so
// the client times out, until Restore.
func (s *Server) Drop(name string, types ...string) { s.setFault(name, faultDrop, types) }

// Restore undoes ServFail, Refuse or Drop for name.
func (s *Server) Restore(name string) { s.setFault(name, faultNone, nil) }

func (s *Server) setFault(name string, f fault, types []string) {
	rule := faultRule{fault: f}
	for _, typ := range types {
		t, ok := dns.StringToType[strings.ToUpper(typ)]
		if !ok {
			s.errorf("dnstest: unknown record type %q", typ)
			return
		}
		if rule.types == nil {
			rule.types = make(map[uint16]bool)
		}
		rule.types[t] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if f == faultNone {
		delete(s.faults, canonical(name))
		return
	}
	s.faults[canonical(name)] = rule
}

// SetAD makes the server act as a DNSSEC-validating resolver that found
// every answer authentic: it sets the AD bit on answers to queries that set
// DO or AD (RFC 6840 §5.7, RFC 4035 §3.2.3). Default false.
func (s *Server) SetAD(ad bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ad = ad
}

// SetADFor overrides SetAD for answers whose question is name: a signed
// zone among unsigned ones, or the reverse.
func (s *Server) SetADFor(name string, ad bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.adFor[canonical(name)] = ad
}

// SetTTL sets the TTL, in seconds, of the records added with Add and AddTXT
// (earlier and later ones: it is read at answer time), and the default TTL
// of AddZone lines without one.
func (s *Server) SetTTL(ttl uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttl = ttl
}

// TTL is the TTL SetTTL set.
func (s *Server) TTL() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.ttl
}

// SetNegativeTTL sets the SOA MINIMUM (and SOA TTL) sent with NXDOMAIN and
// NODATA answers, which bounds how long a client caches them (RFC 2308 §5).
func (s *Server) SetNegativeTTL(ttl uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.negTTL = ttl
}

// SetMaxUDP caps the size of UDP answers below what the client's EDNS0
// buffer allows (at least 512 bytes, RFC 1035 §4.2.1), so a test can force
// truncation with fewer records. 0 removes the cap.
func (s *Server) SetMaxUDP(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.maxUDP = n
}

// SetChaseCNAME decides whether an answer holding a CNAME also holds the
// records of its target, as recursive resolvers send them (the default), or
// only the CNAME, so that the client has to ask for the target itself.
func (s *Server) SetChaseCNAME(chase bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chase = chase
}

// Asked is every query received so far, oldest first.
func (s *Server) Asked() []Query {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Query(nil), s.asked...)
}

// Count is how many queries for name and type (as in Add; "" for any type)
// were received so far.
func (s *Server) Count(name, typ string) int {
	name = ownerName(name, typ)
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, q := range s.asked {
		if q.Name == name && (typ == "" || strings.EqualFold(q.Type, typ)) {
			n++
		}
	}
	return n
}

// ResetAsked forgets the queries received so far.
func (s *Server) ResetAsked() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = nil
}

// ServeDNS answers one query; it implements dns.Handler.
func (s *Server) ServeDNS(w dns.ResponseWriter, req *dns.Msg) {
	_, tcp := w.RemoteAddr().(*net.TCPAddr)
	resp, drop := s.answer(req, tcp)
	if drop {
		return
	}
	if !tcp {
		// RFC 1035 §4.2.1 (512 bytes) or the requester's EDNS0 buffer
		// (RFC 6891 §6.2.5); what does not fit is cut and flagged TC, and
		// the client asks again over TCP (RFC 7766 §5).
		size := dns.MinMsgSize
		if opt := req.IsEdns0(); opt != nil {
			size = int(opt.UDPSize())
		}
		s.mu.Lock()
		if s.maxUDP > 0 && s.maxUDP < size {
			size = max(s.maxUDP, dns.MinMsgSize)
		}
		s.mu.Unlock()
		resp.Truncate(size)
	}
	_ = w.WriteMsg(resp)
}

func (s *Server) answer(req *dns.Msg, tcp bool) (resp *dns.Msg, drop bool) {
	resp = new(dns.Msg)
	resp.SetReply(req)
	resp.RecursionAvailable = true
	reqOpt := req.IsEdns0()
	if reqOpt != nil {
		// RFC 6891 §7: answer EDNS with EDNS; DO is echoed (RFC 3225 §3).
		resp.SetEdns0(dns.MaxMsgSize, reqOpt.Do())
	}
	if len(req.Question) != 1 {
		resp.Rcode = dns.RcodeFormatError
		return resp, false
	}
	q := req.Question[0]
	name := canonical(q.Name)

	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, Query{
		Name: name, Type: dns.TypeToString[q.Qtype], TCP: tcp,
		DO: reqOpt != nil && reqOpt.Do(), AD: req.AuthenticatedData,
	})
	switch s.faults[name].applies(q.Qtype) {
	case faultDrop:
		return nil, true
	case faultServFail:
		resp.Rcode = dns.RcodeServerFailure
		return resp, false
	case faultRefused:
		resp.Rcode = dns.RcodeRefused
		return resp, false
	}
	if q.Qclass != dns.ClassINET {
		resp.Rcode = dns.RcodeRefused
		return resp, false
	}

	// Follow CNAMEs within our own records, as a recursive resolver does
	// (RFC 1034 §4.3.2 step 3a), at most 8 links so a loop ends. The
	// RCODE speaks of the last name of the chain (RFC 6604 §2).
	owner := name
	negative := true
	for range 8 {
		rrs, exists := s.records[owner]
		if !exists {
			if !s.hasChildren(owner) {
				resp.Rcode = dns.RcodeNameError
			}
			// RFC 8020: a name with names below it exists (an empty
			// non-terminal, such as _domainkey.example.test.), so it
			// is NODATA.
			break
		}
		var cname dns.RR
		found := false
		for _, r := range rrs {
			t := r.rr.Header().Rrtype
			switch {
			case t == q.Qtype || q.Qtype == dns.TypeANY:
				resp.Answer = append(resp.Answer, s.copyRR(r, owner))
				found = true
			case t == dns.TypeCNAME:
				cname = s.copyRR(r, owner)
			}
		}
		if found {
			negative = false
			break
		}
		if cname == nil {
			break
		}
		resp.Answer = append(resp.Answer, cname)
		if !s.chase {
			negative = false
			break
		}
		owner = canonical(cname.(*dns.CNAME).Target)
	}
	if negative {
		// RFC 2308 §3: negative answers carry the SOA whose MINIMUM
		// (and TTL) bounds how long they may be cached.
		resp.Ns = append(resp.Ns, &dns.SOA{
			Hdr: dns.RR_Header{Name: ".", Rrtype: dns.TypeSOA, Class: dns.ClassINET, Ttl: s.negTTL},
			Ns:  "ns.dnstest.", Mbox: "hostmaster.dnstest.",
			Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, Minttl: s.negTTL,
		})
	}
	ad, set := s.adFor[name]
	if !set {
		ad = s.ad
	}
	// RFC 6840 §5.7, RFC 4035 §3.2.3: a validating resolver sets AD only
	// for a requester that showed it understands it (DO or AD set).
	resp.AuthenticatedData = ad && (req.AuthenticatedData || (reqOpt != nil && reqOpt.Do()))
	return resp, false
}

// hasChildren reports whether some record is owned by a name below name.
// s.mu is held.
func (s *Server) hasChildren(name string) bool {
	suffix := "." + name
	if name == "." {
		suffix = "."
	}
	for n := range s.records {
		if strings.HasSuffix(n, suffix) && n != name {
			return true
		}
	}
	return false
}

func (s *Server) copyRR(r record, owner string) dns.RR {
	rr := dns.Copy(r.rr)
	rr.Header().Name = owner
	rr.Header().Class = dns.ClassINET
	if r.defaultTTL {
		rr.Header().Ttl = s.ttl
	}
	return rr
}

// canonical is the lower-case absolute form of name (RFC 4034 §6.2).
func canonical(name string) string {
	return dns.CanonicalName(name)
}

// ownerName turns an IP given for a PTR record into its reverse name.
func ownerName(name, typ string) string {
	if strings.EqualFold(typ, "PTR") {
		if ip := net.ParseIP(name); ip != nil {
			if r, err := dns.ReverseAddr(ip.String()); err == nil {
				return r
			}
		}
	}
	return canonical(name)
}

// ParseRecord builds the record Add adds: name is an owner name (an IP for
// PTR), typ a record type, value the data as a zone file writes it, except
// for TXT, whose value is the text itself (split into 255-byte strings).
func ParseRecord(name, typ, value string) (dns.RR, error) {
	t, ok := dns.StringToType[strings.ToUpper(typ)]
	if !ok || t == dns.TypeANY || t == dns.TypeOPT {
		return nil, fmt.Errorf("unknown record type %q", typ)
	}
	if name == "" {
		return nil, fmt.Errorf("empty name")
	}
	owner := ownerName(name, typ)
	if _, ok := dns.IsDomainName(owner); !ok || !plainName(owner) {
		return nil, fmt.Errorf("bad name %q", name)
	}
	hdr := dns.RR_Header{Name: owner, Rrtype: t, Class: dns.ClassINET, Ttl: DefaultTTL}
	if t == dns.TypeTXT {
		return &dns.TXT{Hdr: hdr, Txt: splitTXT(value)}, nil
	}
	if strings.ContainsAny(value, "\n\r;()\"\\") {
		// Newlines would start another record, ';' a comment,
		// parentheses, quotes or backslashes a multi-line, quoted or
		// escaped form that Add does not promise to read.
		return nil, fmt.Errorf("value %q holds a newline, ';', '(', ')', '\"' or '\\'", value)
	}
	rr, err := dns.NewRR(fmt.Sprintf("%s %d IN %s %s", owner, DefaultTTL, dns.TypeToString[t], value))
	if err != nil {
		return nil, err
	}
	if rr == nil || rr.Header().Rrtype != t {
		return nil, fmt.Errorf("value %q is not %s data", value, typ)
	}
	if tlsa, ok := rr.(*dns.TLSA); ok {
		// miekg/dns keeps the association data as written and finds
		// bad hex only when packing; refuse it here instead.
		if _, err := hex.DecodeString(tlsa.Certificate); err != nil {
			return nil, fmt.Errorf("TLSA association data %q: %w", tlsa.Certificate, err)
		}
		tlsa.Certificate = strings.ToLower(tlsa.Certificate)
	}
	return rr, nil
}

// plainName reports whether name holds only letters, digits, '-', '_', '*'
// and dots: the names mail uses, which are spelled the same in a query as
// in the records (miekg/dns gives query names in escaped form).
func plainName(name string) bool {
	for i := 0; i < len(name); i++ {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_', c == '*', c == '.':
		default:
			return false
		}
	}
	return true
}

// splitTXT cuts text into character-strings of at most 255 bytes (RFC 1035
// §3.3.14), in the escaped form miekg/dns keeps them in; an empty text is
// one empty string.
func splitTXT(text string) []string {
	if text == "" {
		return []string{""}
	}
	var out []string
	for len(text) > 255 {
		out = append(out, escapeTXT(text[:255]))
		text = text[255:]
	}
	return append(out, escapeTXT(text))
}

// escapeTXT writes a character-string as miekg/dns holds it: presentation
// form (RFC 1035 §5.1), with '"' and '\' escaped by a backslash and bytes
// outside printable ASCII as \DDD. miekg/dns unescapes it when packing, so
// a raw '\' would otherwise be lost from the wire.
func escapeTXT(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < ' ' || c > '~':
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}
