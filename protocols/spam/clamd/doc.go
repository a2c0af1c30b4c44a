// Package clamd is Surat's client of the ClamAV daemon (clamd(8)) and the
// pipeline check that refuses infected mail on the MX port (--clamd).
//
// The client speaks clamd's socket protocol: PING, VERSION and INSTREAM
// with the "z" command prefix (NUL-terminated commands and replies). A scan
// is one connection: "zINSTREAM\0", then the message in chunks, each a
// 4-byte big-endian length followed by that many bytes, then a zero-length
// chunk; clamd answers "stream: OK", "stream: NAME FOUND", or an error
// ending in "ERROR" ("INSTREAM size limit exceeded. ERROR" once the stream
// passes clamd's StreamMaxLength, after which it closes the connection).
// The address is "unix:PATH" (clamd's LocalSocket) or "HOST:PORT" (its
// TCPSocket). No maintained Go client fitted (the ones on the module proxy
// are unmaintained or hold the whole message in memory), so this one is
// ours, written from clamd(8).
//
// The message is streamed while it arrives: Scan.Write hands each piece
// to a goroutine through a bounded feed (protocols/spam/internal/feed)
// that writes it to clamd, so the message is never held whole, and a
// clamd that stops reading stalls the scan (a failure), not the SMTP
// session.
//
// Check is the pipeline.Check. Infected: 554 5.7.1 naming the signature,
// nothing stored. A scan that could not be made (clamd unreachable, an
// error reply, the size limit, a timeout) is a temporary failure of the
// message (451 4.7.0 from the SMTP server, the client retries), unless the
// operator chose --clamd-failure accept: the message is then delivered
// with an "X-Virus-Scan: unavailable" field, a warning in the log and
// surat_unscanned_deliveries_total{check="clamd"} counted. It never
// passes mail silently unscanned.
//
// This package must not store anything or decide anything but the scan's
// verdict; it runs only on the MX port (submitted mail is not scanned).
package clamd
