// Package acl is RFC 4314's access control for IMAP mailboxes, as pure
// functions: the rights (lrswipkxtea, with the obsolete c and d of
// RFC 2086 mapped as §2.1.1 allows), the SETACL rights string and its
// "+"/"-" modifications (§3.1), identifiers ("anyone", "authenticated",
// an address, and "-identifier" for negative rights, §2), the rights a
// user holds on a mailbox (§2: the owner holds them all), the
// LISTRIGHTS answer (§3.4), and the "Other Users" namespace spelling of
// a shared mailbox's name (RFC 2342 §5, as Dovecot's "shared/%u/").
//
// It owns no state and does no I/O: mailbox/ stores the ACLs as
// replicated state (AclSet events) and protocols/imap enforces them.
// mailbox's apply calls Modify, CanonicalIdentifier and Evaluate, so
// what they accept and return is part of apply's semantics
// (docs/DESIGN.md, invariant 2): never change it for input a log may
// already hold; add, do not reinterpret.
package acl
