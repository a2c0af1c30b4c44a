// Package mailheader folds and unfolds the header fields Surat writes and
// reads (RFC 5322 §2.2.3), the one place that does so.
//
// A header field is one logical line, "Name: value", that may be folded
// onto several physical lines by putting a CRLF in front of any white
// space (WSP: space or tab) in it; unfolding removes those CRLFs and
// gives the one-line form back. RFC 5322 §2.1.1 limits a line to 998
// octets (MUST) and recommends 78 (SHOULD), CRLF excluded.
//
// Fold writes a whole field; Field builds one piece by piece for the
// callers that choose their own line breaks at syntactic boundaries (one
// Authentication-Results result a line) or append a base64 value that
// may be broken anywhere (DKIM and ARC b=, RFC 6376 §3.5). Folding only
// ever puts a CRLF in front of white space already in the value, so
// Unfold gives the value back octet for octet, with two exceptions that
// the methods name: a word too long for a 998-octet line, and base64.
//
// OneLine and CRLF clean the line breaks of text Surat writes into a
// field or a body; TextEntity writes a plain-text body's Content-* fields
// and text, choosing 7bit or quoted-printable by the same line limit.
//
// It does not parse fields, encode non-ASCII header text (RFC 2047) or
// canonicalize them for signatures: it owns the line breaks only.
package mailheader
