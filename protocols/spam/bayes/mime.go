package bayes

import (
	"bytes"
	"encoding/base64"
	"mime"
	"net/netip"
	"strings"
	"unicode/utf8"
)

// partInfo is what a header block says about the body under it
// (RFC 2045 §5, §6; RFC 2183 §2.3).
type partInfo struct {
	mediaType string // lower-case type/subtype; "" when absent
	boundary  []byte
	charset   string
	cte       string
	filename  []byte
}

// parseMessage reads a message (a header block and a body): the whole
// input at depth 0, or an attached message/rfc822.
func parseMessage(e *emitter, msg []byte, depth int) {
	hdr, body := splitHeader(msg)
	var info partInfo
	n := 0
	received := 0
	eachField(hdr, func(name, value []byte) bool {
		if n++; n > maxFields || e.full() {
			return false
		}
		lname := lowerASCII(name)
		info.field(lname, value)
		if strings.HasPrefix(lname, "x-spam") {
			// An earlier filter's verdict: reading it would learn the
			// filter, not the message.
			return true
		}
		e.emitString("h:", lname)
		switch lname {
		case "subject":
			e.words("subject:", decodeWords(value))
		case "from", "to", "cc", "reply-to", "sender", "return-path", "delivered-to", "errors-to":
			addressTokens(e, lname, value)
		case "received":
			// The nearest hops say most; a long chain is bounded.
			if received++; received <= maxReceived {
				receivedTokens(e, value)
			}
		case "message-id":
			if at := bytes.LastIndexByte(value, '@'); at >= 0 {
				d := bytes.TrimRight(value[at+1:], "> \t")
				e.emit("message-id:domain:", d)
			} else {
				e.emitString("message-id:", "no-domain")
			}
		case "authentication-results", "arc-authentication-results":
			authTokens(e, value)
		case "received-spf":
			// RFC 7208 §9.1: the result is the field's first word.
			w := bytes.Fields(value)
			if len(w) > 0 {
				e.emit("ar:spf=", trimWord(w[0]))
			}
		case "x-mailer", "user-agent", "organization", "list-id", "precedence", "x-priority",
			"x-msmail-priority", "importance", "mime-version", "x-mimeole":
			e.words(lname+":", decodeWords(value))
		}
		return true
	})
	bodyPart(e, body, &info, depth)
}

// field records the MIME fields of a header block.
func (p *partInfo) field(lname string, value []byte) {
	switch lname {
	case "content-type":
		mt, params := parseParams(value)
		p.mediaType = mt
		for _, kv := range params {
			switch kv[0] {
			case "boundary":
				p.boundary = []byte(kv[1])
			case "charset":
				p.charset = strings.ToLower(kv[1])
			case "name":
				if p.filename == nil {
					p.filename = []byte(kv[1])
				}
			}
		}
	case "content-transfer-encoding":
		p.cte = lowerASCII(bytes.TrimSpace(value))
	case "content-disposition":
		_, params := parseParams(value)
		for _, kv := range params {
			if kv[0] == "filename" {
				p.filename = []byte(kv[1])
			}
		}
	}
}

// bodyPart reads a body after its header block.
func bodyPart(e *emitter, body []byte, info *partInfo, depth int) {
	if e.parts++; e.parts > maxParts || e.full() {
		return
	}
	mt := info.mediaType
	if mt == "" || !strings.Contains(mt, "/") {
		mt = "text/plain" // RFC 2045 §5.2
	}
	e.emitString("ct:", mt)
	if info.cte != "" {
		e.emitString("cte:", info.cte)
	}
	if info.charset != "" {
		e.emitString("charset:", info.charset)
	}
	if len(info.filename) > 0 {
		name := decodeWords(info.filename)
		if dot := bytes.LastIndexByte(name, '.'); dot >= 0 && len(name)-dot <= 10 {
			e.emit("filename:", name[dot+1:])
		}
	}
	switch {
	case strings.HasPrefix(mt, "multipart/"):
		if len(info.boundary) == 0 || depth >= maxDepth {
			return
		}
		eachPart(body, info.boundary, func(part []byte) bool {
			hdr, pbody := splitHeader(part)
			var pi partInfo
			n := 0
			eachField(hdr, func(name, value []byte) bool {
				if n++; n > maxFields {
					return false
				}
				pi.field(lowerASCII(name), value)
				return true
			})
			bodyPart(e, pbody, &pi, depth+1)
			return !e.full() && e.parts < maxParts
		})
	case mt == "message/rfc822":
		if depth < maxDepth {
			parseMessage(e, decodeBody(body, info.cte), depth+1)
		}
	case strings.HasPrefix(mt, "text/"):
		text := toUTF8(decodeBody(body, info.cte), info.charset)
		if mt == "text/html" {
			htmlTokens(e, text)
		} else {
			textTokens(e, text)
		}
	}
}

// splitHeader splits at the first empty line (RFC 5322 §2.1). Input with
// no empty line is all header.
func splitHeader(msg []byte) (hdr, body []byte) {
	if len(msg) > 0 && msg[0] == '\n' {
		return nil, msg[1:]
	}
	if len(msg) > 1 && msg[0] == '\r' && msg[1] == '\n' {
		return nil, msg[2:]
	}
	for i := 0; ; {
		j := bytes.IndexByte(msg[i:], '\n')
		if j < 0 {
			return msg, nil
		}
		i += j + 1
		if i < len(msg) && msg[i] == '\n' {
			return msg[:i], msg[i+1:]
		}
		if i+1 < len(msg) && msg[i] == '\r' && msg[i+1] == '\n' {
			return msg[:i], msg[i+2:]
		}
	}
}

// eachField calls fn with each field of a header block, unfolded (RFC 5322
// §2.2.3), until fn returns false. Lines that are not fields (an mbox
// "From " line) are skipped.
func eachField(hdr []byte, fn func(name, value []byte) bool) {
	var name, value []byte
	folded := false
	flush := func() bool {
		if name == nil {
			return true
		}
		ok := fn(name, value)
		name, value, folded = nil, nil, false
		return ok
	}
	for len(hdr) > 0 {
		line := hdr
		if i := bytes.IndexByte(hdr, '\n'); i >= 0 {
			line, hdr = hdr[:i], hdr[i+1:]
		} else {
			hdr = nil
		}
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) > 0 && (line[0] == ' ' || line[0] == '\t') {
			if name != nil {
				if !folded {
					value = append([]byte(nil), value...)
					folded = true
				}
				value = append(append(value, ' '), bytes.TrimLeft(line, " \t")...)
			}
			continue
		}
		if !flush() {
			return
		}
		colon := bytes.IndexByte(line, ':')
		if colon <= 0 || bytes.ContainsAny(line[:colon], " \t") {
			continue
		}
		name, value = line[:colon], bytes.TrimLeft(line[colon+1:], " \t")
	}
	flush()
}

// eachPart calls fn with each body part of a multipart body (RFC 2046
// §5.1.1): the text between delimiter lines "--boundary", without the
// preamble and the epilogue, until fn returns false.
func eachPart(body, boundary []byte, fn func(part []byte) bool) {
	delim := append([]byte("--"), boundary...)
	start := -1 // where the current part begins
	for i := 0; i < len(body); {
		j := bytes.Index(body[i:], delim)
		if j < 0 {
			break
		}
		at := i + j
		i = at + len(delim)
		if at > 0 && body[at-1] != '\n' || !delimiterEnd(body[i:]) {
			continue
		}
		if start >= 0 {
			end := at
			if end > start && body[end-1] == '\n' {
				end--
				if end > start && body[end-1] == '\r' {
					end--
				}
			}
			if !fn(body[start:end]) {
				return
			}
		}
		if bytes.HasPrefix(body[i:], []byte("--")) {
			return // the close delimiter
		}
		nl := bytes.IndexByte(body[i:], '\n')
		if nl < 0 {
			return
		}
		i += nl + 1
		start = i
	}
	if start >= 0 && start < len(body) {
		fn(body[start:]) // unterminated: read what came
	}
}

// delimiterEnd reports whether what follows "--boundary" ends a
// delimiter line: "--" (the close delimiter) or white space to the end of
// the line (RFC 2046 §5.1.1).
func delimiterEnd(rest []byte) bool {
	if bytes.HasPrefix(rest, []byte("--")) {
		return true
	}
	for _, c := range rest {
		switch c {
		case ' ', '\t', '\r':
		case '\n':
			return true
		default:
			return false
		}
	}
	return true
}

// parseParams reads "type/subtype; key=value; key="value"" leniently
// (RFC 2045 §5.1), lower-casing the type and the keys.
func parseParams(v []byte) (string, [][2]string) {
	semi := bytes.IndexByte(v, ';')
	if semi < 0 {
		return lowerASCII(bytes.TrimSpace(v)), nil
	}
	mt := lowerASCII(bytes.TrimSpace(v[:semi]))
	var params [][2]string
	rest := v[semi+1:]
	for len(rest) > 0 && len(params) < 16 {
		rest = bytes.TrimLeft(rest, " \t;")
		eq := bytes.IndexByte(rest, '=')
		if eq < 0 {
			break
		}
		key := lowerASCII(bytes.TrimSpace(rest[:eq]))
		rest = bytes.TrimLeft(rest[eq+1:], " \t")
		var val []byte
		if len(rest) > 0 && rest[0] == '"' {
			end := bytes.IndexByte(rest[1:], '"')
			if end < 0 {
				val, rest = rest[1:], nil
			} else {
				val, rest = rest[1:1+end], rest[2+end:]
			}
		} else {
			end := bytes.IndexByte(rest, ';')
			if end < 0 {
				end = len(rest)
			}
			val, rest = bytes.TrimSpace(rest[:end]), rest[end:]
		}
		params = append(params, [2]string{key, string(val)})
	}
	return mt, params
}

// decodeBody undoes a content transfer encoding (RFC 2045 §6), leniently.
func decodeBody(b []byte, cte string) []byte {
	switch cte {
	case "base64":
		return decodeBase64(b)
	case "quoted-printable":
		return decodeQP(b)
	}
	return b
}

// decodeBase64 decodes what it can, skipping characters outside the
// alphabet (RFC 2045 §6.8 tells decoders to ignore them).
func decodeBase64(b []byte) []byte {
	clean := make([]byte, 0, len(b))
	for _, c := range b {
		if 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '/' {
			clean = append(clean, c)
		} else if c == '=' {
			break
		}
	}
	clean = clean[:len(clean)/4*4+min(len(clean)%4, 3)]
	if len(clean)%4 == 1 {
		clean = clean[:len(clean)-1]
	}
	out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
	n, _ := base64.RawStdEncoding.Decode(out, clean)
	return out[:n]
}

// decodeQP decodes quoted-printable (RFC 2045 §6.7) leniently: a malformed
// escape stays as it is.
func decodeQP(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '=' {
			out = append(out, c)
			continue
		}
		if i+1 < len(b) && b[i+1] == '\n' {
			i++
			continue
		}
		if i+2 < len(b) && b[i+1] == '\r' && b[i+2] == '\n' {
			i += 2
			continue
		}
		if i+2 < len(b) {
			h, ok1 := unhex(b[i+1])
			l, ok2 := unhex(b[i+2])
			if ok1 && ok2 {
				out = append(out, h<<4|l)
				i += 2
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// cp1252 maps Windows-1252's 0x80–0x9F to Unicode (the rest of it is
// ISO-8859-1); 0 marks an unassigned byte.
var cp1252 = [32]rune{
	0x20AC, 0, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017D, 0,
	0, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0, 0x017E, 0x0178,
}

// toUTF8 converts the single-byte Latin charsets, the only ones cheap
// enough to convert here; others are left as they are, so their ASCII
// words still count and the rest, not valid UTF-8, separates them.
func toUTF8(b []byte, charset string) []byte {
	switch charset {
	case "iso-8859-1", "latin1", "iso-8859-15", "windows-1252", "cp1252", "us-ascii", "ascii":
	default:
		return b
	}
	high := false
	for _, c := range b {
		if c >= 0x80 {
			high = true
			break
		}
	}
	if !high {
		return b
	}
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0 && cp1252[c-0x80] != 0:
			out = utf8.AppendRune(out, cp1252[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}

// wordDecoder decodes RFC 2047 encoded words in the charsets the standard
// library knows (UTF-8, US-ASCII, ISO-8859-1).
var wordDecoder = mime.WordDecoder{}

// decodeWords decodes RFC 2047 encoded words; on failure the raw value.
func decodeWords(v []byte) []byte {
	if !bytes.Contains(v, []byte("=?")) {
		return v
	}
	d, err := wordDecoder.DecodeHeader(string(v))
	if err != nil {
		return v
	}
	return []byte(d)
}

// addressTokens reads an address field (RFC 5322 §3.4): each address and
// its domain, and the words around them (display names).
func addressTokens(e *emitter, lname string, value []byte) {
	value = decodeWords(value)
	found := false
	for i := 0; i < len(value); i++ {
		if value[i] != '@' {
			continue
		}
		s, t := i, i+1
		for s > 0 && isAddrByte(value[s-1]) {
			s--
		}
		for t < len(value) && isAddrByte(value[t]) {
			t++
		}
		domain := bytes.TrimRight(value[i+1:t], ".")
		if len(domain) == 0 {
			continue
		}
		found = true
		e.emit(lname+":addr:", value[s:t])
		e.emit(lname+":domain:", domain)
		i = t
	}
	if !found {
		e.emitString(lname+":", "no-address")
	}
	e.words(lname+":", value)
}

func isAddrByte(c byte) bool {
	return c > ' ' && c < 0x7f && !strings.ContainsRune("<>()[]\",;:@\\", rune(c))
}

// receivedTokens reads the host names and client addresses of a Received
// field (RFC 5321 §4.4): hosts with their parent domains, IPv4 clients by
// /24.
func receivedTokens(e *emitter, value []byte) {
	for _, f := range bytes.FieldsFunc(value, func(r rune) bool {
		return r == ' ' || r == '\t' || r == '(' || r == ')' || r == '[' || r == ']' || r == ';' || r == ','
	}) {
		f = bytes.Trim(f, ".=")
		if bytes.IndexByte(f, '.') < 0 || len(f) > 255 {
			continue
		}
		if ip, err := netip.ParseAddr(string(f)); err == nil {
			if ip.Is4() {
				b := ip.As4()
				e.emitString("received:ip:", ip4Prefix(b))
			}
			continue
		}
		if bytes.IndexByte(f, '@') >= 0 || !hasLetter(f) {
			continue
		}
		domainTokens(e, "received:", f)
	}
}

func ip4Prefix(b [4]byte) string {
	var s []byte
	for i := 0; i < 3; i++ {
		if i > 0 {
			s = append(s, '.')
		}
		n := int(b[i])
		if n >= 100 {
			s = append(s, byte('0'+n/100))
		}
		if n >= 10 {
			s = append(s, byte('0'+n/10%10))
		}
		s = append(s, byte('0'+n%10))
	}
	return string(s)
}

func hasLetter(b []byte) bool {
	for _, c := range b {
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
			return true
		}
	}
	return false
}

// domainTokens emits a host name and its parent domains down to two
// labels (at most four tokens).
func domainTokens(e *emitter, prefix string, host []byte) {
	host = bytes.TrimRight(host, ".")
	for n := 0; n < 4 && len(host) > 0; n++ {
		e.emit(prefix, host)
		dot := bytes.IndexByte(host, '.')
		if dot < 0 || bytes.IndexByte(host[dot+1:], '.') < 0 {
			return
		}
		host = host[dot+1:]
	}
}

// authTokens reads the method results of Authentication-Results (RFC 8601
// §2.2): "spf=pass", "dkim=fail"...
func authTokens(e *emitter, value []byte) {
	for _, f := range bytes.FieldsFunc(value, func(r rune) bool { return r == ';' || r == ' ' || r == '\t' }) {
		eq := bytes.IndexByte(f, '=')
		if eq <= 0 {
			continue
		}
		switch lowerASCII(f[:eq]) {
		case "spf", "dkim", "dmarc", "arc", "iprev", "auth", "dkim-adsp", "compauth":
			e.emit("ar:", trimWord(f))
		}
	}
}

// trimWord cuts a result at its first character that is not a letter,
// digit, '=' or '-'.
func trimWord(b []byte) []byte {
	for i, c := range b {
		if !(isWordByte(c) || c == '=') {
			return b[:i]
		}
	}
	return b
}

// textTokens reads plain text: its URLs, then its words.
func textTokens(e *emitter, text []byte) {
	urlTokens(e, text)
	e.words("", text)
}

// urlTokens emits, for each URL in text (RFC 3986 §3), its scheme and its
// host with the parent domains; a literal IP address is one token, so is
// a host in percent or non-ASCII encoding.
func urlTokens(e *emitter, text []byte) {
	n := 0
	for i := 0; i < len(text) && n < 64; {
		j := bytes.Index(text[i:], []byte("://"))
		k := indexFold(text[i:], "www.")
		var hostStart int
		switch {
		case j < 0 && k < 0:
			return
		case j >= 0 && (k < 0 || j < k):
			at := i + j
			s := at
			for s > 0 && s > at-10 && isSchemeByte(text[s-1]) {
				s--
			}
			if s == at {
				i = at + 3
				continue
			}
			e.emit("proto:", text[s:at])
			hostStart = at + 3
		default:
			at := i + k
			if at > 0 && (isWordByte(text[at-1]) || text[at-1] == '.' || text[at-1] == '/') {
				i = at + 4
				continue
			}
			hostStart = at
		}
		end := hostStart
		for end < len(text) && !strings.ContainsRune("/?#\"'<> \t\r\n)]", rune(text[end])) {
			end++
		}
		i = max(end, hostStart+1)
		host := text[hostStart:end]
		if at := bytes.LastIndexByte(host, '@'); at >= 0 {
			e.emitString("url:", "userinfo")
			host = host[at+1:]
		}
		if c := bytes.LastIndexByte(host, ':'); c >= 0 && bytes.IndexByte(host, ']') < c {
			host = host[:c]
		}
		host = bytes.Trim(host, ".,;")
		if len(host) == 0 {
			continue
		}
		n++
		switch {
		case bytes.IndexByte(host, '%') >= 0 || !isASCII(host):
			e.emitString("url:", "encoded")
		case !hasLetter(host) || host[0] == '[':
			e.emitString("url:", "ip")
		default:
			domainTokens(e, "url:", host)
		}
	}
}

func isSchemeByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.'
}

func isASCII(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// indexFold is bytes.Index for an ASCII lower-case needle, ignoring case.
func indexFold(s []byte, needle string) int {
	for i := 0; i+len(needle) <= len(s); i++ {
		j := bytes.IndexAny(s[i:], needle[:1]+strings.ToUpper(needle[:1]))
		if j < 0 {
			return -1
		}
		i += j
		if i+len(needle) <= len(s) && equalFoldASCII(s[i:i+len(needle)], needle) {
			return i
		}
	}
	return -1
}

// lowerASCII lower-cases ASCII letters into a new string.
func lowerASCII(b []byte) string {
	for _, c := range b {
		if 'A' <= c && c <= 'Z' {
			return strings.ToLower(string(b))
		}
	}
	return string(b)
}

// equalFoldASCII compares b to a lower-case ASCII s, ignoring b's case.
func equalFoldASCII(b []byte, s string) bool {
	for i := range len(s) {
		c := b[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != s[i] {
			return false
		}
	}
	return true
}
