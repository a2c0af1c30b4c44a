// Package managesieve serves ManageSieve (RFC 5804): users upload, check,
// list and activate their Sieve scripts from their mail clients
// (Thunderbird's Sieve add-on, Roundcube, K-9, sieve-connect).
//
// It owns the ManageSieve wire protocol and session. It must not write to
// the store itself (scripts are kept through the Scripts interface,
// store.go, implemented over the replicated store by protocols/sievestore:
// every change is an event, answered OK only once committed), interpret
// Sieve (Config.Check does: sieve.Compile), or check passwords (the node's
// one login path, protocols/login, does, as for SMTP, IMAP and POP3).
//
// # Why not a library
//
// github.com/migadu/go-managesieve v0.1.1 (MIT) was weighed: a clean,
// dependency-free server with the same validation-agnostic design. It is
// young (first tags in 2026), and fitting it to this node would bend it
// where the node's other front ends share code: authentication through
// protocols/login's typed outcomes (TRYLATER for a node that is not caught
// up, BYE after the third failure, a locked-out client refused before the
// greeting), revocation of sessions whose password changed on any node
// (login.WatchRevocations), the read-ahead that notices a client leaving
// while a commit waits (protocols/clientwatch), and the accept loop with
// its connection limits, refusal and Shutdown's drain, the line reader and
// the lingering close, shared with POP3 (protocols/frontend). RFC 5804 is small; the
// wire code here (wire.go, fuzzed) is a few hundred lines with its RFC
// sections cited at the line.
//
// # What is served
//
//   - The capability greeting (RFC 5804 §1.7): IMPLEMENTATION "Surat",
//     SASL (empty before TLS, "PLAIN" under TLS, absent after login),
//     SIEVE (Config.Extensions, sieve.Extensions()), STARTTLS before TLS,
//     MAXREDIRECTS, NOTIFY "mailto" only with enotify, UNAUTHENTICATE,
//     VERSION "1.0".
//   - STARTTLS (§2.2), then the capabilities re-issued; plaintext
//     pipelined behind it is dropped (CVE-2011-0411).
//   - AUTHENTICATE "PLAIN" (§2.1, RFC 4616) with or without an initial
//     response, only under TLS: before it NO (ENCRYPT-NEEDED), never a
//     challenge. "*" cancels. An authorization identity other than the
//     user is refused. UNAUTHENTICATE (§2.14.1).
//   - PUTSCRIPT, CHECKSCRIPT (validated by Config.Check: NO with the
//     compiler's reason and line number), LISTSCRIPTS (ACTIVE marker),
//     SETACTIVE ("" deactivates; the script is checked again), GETSCRIPT
//     (a literal), DELETESCRIPT (NO (ACTIVE) for the active one),
//     RENAMESCRIPT (the active one stays active), HAVESPACE, CAPABILITY,
//     NOOP (with TAG), LOGOUT.
//   - Response codes (§1.3): ENCRYPT-NEEDED, NONEXISTENT, ALREADYEXISTS,
//     ACTIVE, QUOTA, QUOTA/MAXSCRIPTS, QUOTA/MAXSIZE, TRYLATER, TAG. A
//     storage failure that is none of Scripts' sentinels is TRYLATER,
//     never a permanent NO.
//
// Literals: "{n+}" and "{n}" from the client are both read at once (RFC
// 5804 has no continuation request); the server sends "{n}". A reply text
// that a quoted string cannot hold (CR, LF, over 1,024 octets) goes as a
// literal.
//
// # Limits
//
// Script names per §1.6 (UTF-8, no control characters or line/paragraph
// separators, 1-128 octets; NFC is not checked). Scripts of at most
// Limits.MaxScriptBytes (64 KiB), Limits.MaxScripts (32) per user: the
// session checks both, and passes them to Scripts.Put, where the event
// enforces them at commit. Command lines of at most MaxLine (8 KiB); a
// longer line is skipped and answered NO, a literal over the limit is read
// and dropped and answered NO (QUOTA/MAXSIZE), and either past 1 MiB ends
// the session with BYE. MaxBadCommands malformed or unknown commands end
// it too; so does idleness (AuthTimeout before login, IdleTimeout after).
// Each session recovers from panics.
package managesieve
