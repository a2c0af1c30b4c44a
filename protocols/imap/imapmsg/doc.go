// Package imapmsg computes the message data an IMAP FETCH returns, from a
// message's bytes: ENVELOPE (RFC 9051 §7.5.2, RFC 3501 §7.4.2), BODY and
// BODYSTRUCTURE with their extension data, BODY[section]<partial> (HEADER,
// HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME and part numbers, RFC 9051
// §6.4.5), BINARY[section] and BINARY.SIZE (RFC 3516, RFC 9051 §6.4.5) and
// PREVIEW (RFC 8970).
//
// It parses messages the way Dovecot answers them: header values are
// returned raw (unfolded, RFC 2047 encoded words left as they are),
// addresses as RFC 5322 §3.4 reads them with the obsolete syntax of §4.4
// accepted (groups, routes, comments as names), a missing mailbox or domain
// named MISSING_MAILBOX or MISSING_DOMAIN, and MIME parts found by their
// boundary lines (RFC 2046 §5.1.1) within the part that encloses them.
//
// A message is parsed once into a tree of parts that refer to the message
// bytes by offset (Parse): a section is a slice of those bytes, never a
// copy, except for HEADER.FIELDS(.NOT), which picks lines, and BINARY,
// which decodes. Message bodies may be tens of MiB: nothing here reads
// one more than once per nesting level or copies it whole. Malformed
// input never panics; nesting, part counts and the header read are
// bounded (MaxDepth, MaxParts, MaxHeaderParse), no input is parsed in
// more than linear time per nesting level, and a partial range is
// clamped to what exists, so an offset or length near 2^32 or 2^63
// cannot overflow.
//
// # Use
//
// For ENVELOPE and header-only sections the header block is enough:
//
//	env := imapmsg.ParseEnvelope(header)       // keep it: parse once per message
//	b := imapmsg.HeaderSection(header, bs)     // BODY[HEADER], BODY[HEADER.FIELDS (...)]
//
// For anything else, parse the body once per message and ask:
//
//	m := imapmsg.Parse(body)
//	enc.BodyStructure(&m.Root, extended)       // package wire: BODY / BODYSTRUCTURE
//	b, ok := m.BodySection(bs)                 // BODY[section]<partial>
//	b, err := m.BinarySection(bs)              // BINARY[...]: errors.Is(err, ErrUnknownEncoding) → NO [UNKNOWN-CTE]
//	n, err := m.BinarySize(part)               // BINARY.SIZE[...]
//	text := m.Preview()                        // PREVIEW
//
// For APPEND of a literal8 (RFC 3516 §4.4), ConvertBinary re-encodes its
// binary parts in base64 before the message is stored, as Dovecot does.
//
// Envelope and Part are this package's own types, not go-imap's
// imap.Envelope and imap.BodyStructure: the ENVELOPE returns the Date and
// Subject fields as written (not parsed, not decoded) and addresses with
// their route, which
// go-imap's types do not hold, and BODYSTRUCTURE's parameters keep their
// order. Envelope.IMAP converts for code that wants go-imap's form.
//
// It computes data only: it does not read the store, write the wire
// (package wire encodes Envelope and Part) or decide which FETCH items a
// session may ask for.
package imapmsg
