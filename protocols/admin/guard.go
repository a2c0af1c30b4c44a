package admin

import (
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
)

// sameSite refuses what a browser could be made to send on a visitor's
// behalf, before any handler and whether or not a token is configured:
//
//   - a Host that is neither an IP address, localhost, nor one of
//     Config.Hosts: 403 (a DNS-rebinding page, whose own name now resolves
//     to this node, sends its own name);
//   - an Origin other than the Host itself (RFC 6454 §7), "null" included,
//     or Sec-Fetch-Site cross-site/same-site: 403 (cross-site request
//     forgery; the API answers no CORS preflight, so only such "simple"
//     requests could get here);
//   - a body, or a Content-Type, that is not application/json: 415 (an HTML
//     form can post text/plain or form data without a preflight, never
//     JSON).
//
// It writes the refusal and returns false.
func (s *Server) sameSite(w http.ResponseWriter, r *http.Request) bool {
	if !s.knownHost(r.Host) {
		s.refuse(w, r, http.StatusForbidden, "Host "+r.Host+" is not a name of this node (add it to --http-names)")
		return false
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		u, err := url.Parse(origin)
		if err != nil || origin == "null" || u.Host == "" || !strings.EqualFold(u.Host, r.Host) {
			s.refuse(w, r, http.StatusForbidden, "cross-origin request refused (Origin "+origin+")")
			return false
		}
	}
	// Fetch Metadata (W3C): sent by browsers, never by the CLI or curl.
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		s.refuse(w, r, http.StatusForbidden, "cross-site request refused")
		return false
	}
	if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
		if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/json" {
			s.refuse(w, r, http.StatusUnsupportedMediaType, "request body must be application/json")
			return false
		}
	}
	return true
}

// knownHost: an IP literal cannot be rebound, localhost names this
// machine, and the configured names are the node's own.
func (s *Server) knownHost(hostport string) bool {
	if hostport == "" {
		return true // HTTP/1.0 without Host: no browser sends that
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	if net.ParseIP(host) != nil || host == "localhost" {
		return true
	}
	for _, h := range s.cfg.Hosts {
		if host == h {
			return true
		}
	}
	return false
}

func (s *Server) refuse(w http.ResponseWriter, r *http.Request, status int, msg string) {
	s.cfg.Logger.Warn("admin: request refused", "method", r.Method, "path", r.URL.Path,
		"status", status, "reason", msg, "remote", remoteHost(r.RemoteAddr))
	writeError(w, status, msg)
}

// remoteHost is the client's IP, logged as "remote" like every front end's
// (without the port).
func remoteHost(addr string) string {
	if h, _, err := net.SplitHostPort(addr); err == nil {
		return h
	}
	return addr
}
