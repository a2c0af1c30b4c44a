package main

import (
	"fmt"
	"net"
)

// tlsListenerPair is a protocol's STARTTLS listener and its implicit-TLS
// one (RFC 8314), either possibly absent, bound before the cluster starts
// so that a port clash is reported before this node joins anything.
type tlsListenerPair struct {
	plain, implicit net.Listener
}

// listenPair binds the two addresses ("" skips one); the flag names go
// into the error.
func listenPair(plainFlag, plainAddr, implicitFlag, implicitAddr string) (*tlsListenerPair, error) {
	m := &tlsListenerPair{}
	for _, l := range []struct {
		flag, addr string
		dst        *net.Listener
	}{{plainFlag, plainAddr, &m.plain}, {implicitFlag, implicitAddr, &m.implicit}} {
		if l.addr == "" {
			continue
		}
		ln, err := net.Listen("tcp", l.addr)
		if err != nil {
			m.close()
			return nil, fmt.Errorf("serve: listen --%s: %w", l.flag, err)
		}
		*l.dst = ln
	}
	return m, nil
}

func (m *tlsListenerPair) close() {
	for _, ln := range []net.Listener{m.plain, m.implicit} {
		if ln != nil {
			ln.Close()
		}
	}
}
