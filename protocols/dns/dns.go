// Package dns owns every DNS look-up Surat makes (MX for outbound mail,
// SPF/DKIM TXT records, PTR for logging), behind the Resolver interface.
//
// On our machines a real look-up must never happen by accident, so the
// default is None (no DNS at all: outbound mail goes only to --smarthost).
// Parse maps the --resolver flag: "none" (or empty), "system" (the operating
// system's resolver, only when asked for by name), or HOST:PORT (queries go
// to that server only, never to /etc/resolv.conf's). This package must not
// cache answers or interpret them for mail policy: callers do.
package dns

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// Resolver is the DNS a mail server needs.
type Resolver interface {
	LookupMX(ctx context.Context, domain string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// ErrDisabled is returned by None for every look-up.
var ErrDisabled = errors.New("dns: look-ups are disabled (--resolver none)")

// None is the Resolver that never looks anything up and never touches the
// network: every call returns ErrDisabled.
type None struct{}

func (None) LookupMX(context.Context, string) ([]*net.MX, error)  { return nil, ErrDisabled }
func (None) LookupHost(context.Context, string) ([]string, error) { return nil, ErrDisabled }
func (None) LookupTXT(context.Context, string) ([]string, error)  { return nil, ErrDisabled }
func (None) LookupAddr(context.Context, string) ([]string, error) { return nil, ErrDisabled }

// Client is a Resolver that sends every query to one DNS server.
type Client struct {
	server string
	r      *net.Resolver
}

// New returns a Resolver that queries only server (HOST:PORT, UDP with TCP
// fallback for truncated answers). Host files still apply to LookupHost, as
// for any Go resolver.
func New(server string) (*Client, error) {
	if err := checkHostPort(server); err != nil {
		return nil, fmt.Errorf("dns: server %q: %w", server, err)
	}
	var d net.Dialer
	return &Client{
		server: server,
		r: &net.Resolver{
			PreferGo: true,
			// The Go resolver passes the address it read from
			// resolv.conf; it is ignored so that only server is asked.
			Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, server)
			},
		},
	}, nil
}

// Server is the HOST:PORT this client queries.
func (c *Client) Server() string { return c.server }

// Names are made absolute so that resolv.conf's search list never turns a
// look-up for "example.test" into one for "example.test.corp.internal".
func absolute(name string) string {
	if name == "" || strings.HasSuffix(name, ".") {
		return name
	}
	return name + "."
}

func (c *Client) LookupMX(ctx context.Context, domain string) ([]*net.MX, error) {
	return c.r.LookupMX(ctx, absolute(domain))
}

func (c *Client) LookupHost(ctx context.Context, host string) ([]string, error) {
	if net.ParseIP(host) != nil {
		return []string{host}, nil
	}
	return c.r.LookupHost(ctx, absolute(host))
}

func (c *Client) LookupTXT(ctx context.Context, name string) ([]string, error) {
	return c.r.LookupTXT(ctx, absolute(name))
}

func (c *Client) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return c.r.LookupAddr(ctx, addr)
}

// System is the operating system's resolver (net.DefaultResolver); used only
// with an explicit --resolver system.
type System struct{}

func (System) LookupMX(ctx context.Context, d string) ([]*net.MX, error) {
	return net.DefaultResolver.LookupMX(ctx, d)
}
func (System) LookupHost(ctx context.Context, h string) ([]string, error) {
	return net.DefaultResolver.LookupHost(ctx, h)
}
func (System) LookupTXT(ctx context.Context, n string) ([]string, error) {
	return net.DefaultResolver.LookupTXT(ctx, n)
}
func (System) LookupAddr(ctx context.Context, a string) ([]string, error) {
	return net.DefaultResolver.LookupAddr(ctx, a)
}

// Parse turns a --resolver value into a Resolver: "" or "none" → None,
// "system" → System, HOST:PORT → New(HOST:PORT). It does no I/O.
func Parse(value string) (Resolver, error) {
	switch v := strings.TrimSpace(value); strings.ToLower(v) {
	case "", "none":
		return None{}, nil
	case "system":
		return System{}, nil
	default:
		c, err := New(v)
		if err != nil {
			return nil, fmt.Errorf("want none, system or HOST:PORT: %w", err)
		}
		return c, nil
	}
}

func checkHostPort(s string) error {
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return err
	}
	if host == "" {
		return errors.New("missing host")
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("bad port %q", port)
	}
	return nil
}
