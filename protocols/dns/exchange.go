package dns

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"

	miekg "github.com/miekg/dns"
)

// exchange sends one question to the server and returns its answer: over
// UDP, up to Attempts times, then over TCP if the answer was truncated.
// The error is a *net.DNSError; an answer with any RCODE is not an error
// here.
func (c *Client) exchange(ctx context.Context, name string, qtype uint16) (*miekg.Msg, error) {
	m := new(miekg.Msg)
	m.SetQuestion(name, qtype)
	m.RecursionDesired = true
	// RFC 6840 §5.7: AD in a query asks a validating resolver to say
	// whether the answer is authentic; DO (RFC 3225, RFC 4035 §3.2.1) is
	// what a validating stub sends, and only asked for when the AD bit is
	// trusted, since it brings RRSIGs and larger answers.
	m.AuthenticatedData = true
	m.SetEdns0(udpSize, c.opts.TrustAD)
	var last error
	for attempt := 0; attempt < c.opts.Attempts; attempt++ {
		m.Id = miekg.Id()
		resp, err := c.exchangeOn(ctx, "udp", m)
		if err == nil && resp.Rcode == miekg.RcodeFormatError && m.IsEdns0() != nil {
			// RFC 6891 §7: a server that does not know EDNS answers
			// FORMERR; ask again without it.
			m.Extra = nil
			attempt--
			continue
		}
		if err == nil && resp.Truncated {
			// RFC 1035 §4.2.1, RFC 7766 §5: the whole answer comes over
			// TCP.
			m.Id = miekg.Id()
			resp, err = c.exchangeOn(ctx, "tcp", m)
		}
		if err == nil {
			c.metrics.query(qtype, resp.Rcode)
			return resp, nil
		}
		c.metrics.query(qtype, -1)
		last = err
		if ctx.Err() != nil {
			break
		}
	}
	if ctx.Err() != nil {
		return nil, dnsError(ctx.Err(), name, c.server)
	}
	var ne net.Error
	if errors.As(last, &ne) && ne.Timeout() {
		return nil, dnsError(ErrTimeout, name, c.server)
	}
	return nil, dnsError(last, name, c.server)
}

// exchangeOn does one exchange over network ("udp" or "tcp") within one
// attempt's timeout. miekg/dns reads only the context's deadline, not its
// cancellation, so the connection is closed when ctx is cancelled.
func (c *Client) exchangeOn(ctx context.Context, network string, m *miekg.Msg) (*miekg.Msg, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	cl := &miekg.Client{Net: network, UDPSize: udpSize, Timeout: c.opts.Timeout}
	conn, err := cl.DialContext(actx, c.server)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	stop := context.AfterFunc(actx, func() { conn.Close() })
	defer stop()
	resp, _, err := cl.ExchangeWithConnContext(actx, m, conn)
	if err != nil {
		if actx.Err() != nil {
			return nil, actx.Err()
		}
		return nil, err
	}
	// miekg/dns matches the ID; the question must match too (RFC 5452
	// §9.1), or this is an answer to something else.
	if len(resp.Question) != 1 || resp.Question[0].Qtype != m.Question[0].Qtype ||
		!strings.EqualFold(resp.Question[0].Name, m.Question[0].Name) {
		return nil, fmt.Errorf("%w: the answer is for another question", ErrMisbehaving)
	}
	return resp, nil
}

// unescapeTXT turns a character-string as miekg/dns gives it (presentation
// form: \" \\ and \DDD escapes, RFC 1035 §5.1) back into its bytes.
func unescapeTXT(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 == len(s) {
			b.WriteByte(s[i])
			continue
		}
		if i+3 < len(s) && isDigit(s[i+1]) && isDigit(s[i+2]) && isDigit(s[i+3]) {
			n := int(s[i+1]-'0')*100 + int(s[i+2]-'0')*10 + int(s[i+3]-'0')
			if n <= 255 {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i+1])
		i++
	}
	return b.String()
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func decodeHex(s string) ([]byte, error) { return hex.DecodeString(s) }
