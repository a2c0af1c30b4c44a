"""NOTIFY (RFC 5465) through Python's imaplib, which knows nothing of it:
NOTIFY SET STATUS goes out raw and imaplib's parser files the initial
untagged STATUS; then another connection appends to INBOX and the first,
sending nothing, reads the untagged STATUS the server sends on its own.
Run by TestImaplibNotify; argv: host port cert user password. Exits
non-zero with a message on the first mismatch."""

import imaplib
import sys

from imaplibtest import args, check, fail, ok, raw, tls

host, port, cert, user, password = args(2)
ctx = tls(cert)

m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
caps = ok("capability", m.capability())[0].split()
if b"NOTIFY" not in caps:
    sys.exit(f"NOTIFY not in {caps!r}")
typ, dat = raw(m, "NOTIFY", b"NOTIFY SET (personal (AnnotationChange))")
check("BADEVENT", typ, "NO")
check("BADEVENT code", m.untagged_responses.pop("BADEVENT", None),
      [b"(MessageNew MessageExpunge FlagChange MailboxName SubscriptionChange MailboxMetadataChange ServerMetadataChange)"])
typ, dat = raw(m, "NOTIFY", b"NOTIFY SET STATUS (mailboxes INBOX (MessageNew MessageExpunge))")
check("notify set", typ, "OK")
status = m.untagged_responses.pop("STATUS", None)
if not status or not status[0].startswith(b"INBOX (MESSAGES 0 UIDNEXT 1 UIDVALIDITY "):
    fail(f"initial STATUS: {status!r}")

other = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("other login", other.login(user, password))
ok("append", other.append("INBOX", None, None, b"Subject: n\r\n\r\nx\r\n"))
other.logout()

# Nothing sent: the server speaks first.
m.sock.settimeout(10)
line = m.readline()
if not line.startswith(b"* STATUS INBOX (MESSAGES 1 UIDNEXT 2 UIDVALIDITY "):
    fail(f"unsolicited STATUS: {line!r}")
typ, dat = raw(m, "NOTIFY", b"NOTIFY NONE")
check("notify none", typ, "OK")
m.logout()
print("ok")
