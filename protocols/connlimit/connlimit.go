// Package connlimit counts a server's open connections, in all and per
// client IP, and admits a new one only within both limits; it also keeps
// them so that a server can cut them all off at shutdown. SMTP's and IMAP's
// listeners use it, and protocols/frontend for POP3 and ManageSieve. It
// does no I/O and knows nothing of protocols.
package connlimit

import "sync"

// Limiter tracks open connections of type C. It is safe for concurrent use.
type Limiter[C comparable] struct {
	max, maxPerIP int

	mu    sync.Mutex
	perIP map[string]int
	conns map[C]string // connection → its client IP
}

// New returns a Limiter admitting at most max connections, and at most
// maxPerIP from one client IP.
func New[C comparable](max, maxPerIP int) *Limiter[C] {
	return &Limiter[C]{max: max, maxPerIP: maxPerIP, perIP: map[string]int{}, conns: map[C]string{}}
}

// Acquire admits c from ip if both limits allow it.
func (l *Limiter[C]) Acquire(c C, ip string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.conns) >= l.max || l.perIP[ip] >= l.maxPerIP {
		return false
	}
	l.perIP[ip]++
	l.conns[c] = ip
	return true
}

// Release frees c's slot; releasing twice, or a connection never admitted,
// does nothing.
func (l *Limiter[C]) Release(c C) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ip, ok := l.conns[c]
	if !ok {
		return
	}
	delete(l.conns, c)
	if l.perIP[ip]--; l.perIP[ip] <= 0 {
		delete(l.perIP, ip)
	}
}

// Open is the number of connections admitted and not yet released.
func (l *Limiter[C]) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.conns)
}

// Conns lists the open connections (a copy: callers close them outside
// the lock, and closing releases them).
func (l *Limiter[C]) Conns() []C {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]C, 0, len(l.conns))
	for c := range l.conns {
		out = append(out, c)
	}
	return out
}
