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
// input never panics; nesting and part counts are bounded (MaxDepth,
// MaxParts) and a partial range is clamped to what exists, so an offset
// or length near 2^32 or 2^63 cannot overflow.
//
// It computes data only: it does not read the store, write the wire
// (package wire encodes Envelope and Part) or decide which FETCH items a
// session may ask for.
package imapmsg
