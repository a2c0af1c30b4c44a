"""CONDSTORE and QRESYNC (RFC 7162) through Python's imaplib, which knows
neither: the extended commands are sent raw (_simple_command, uid, fetch
with modifiers appended) and the responses read from imaplib's untagged
responses. Run by TestImaplibCondstoreQresync; argv: host port cert user
password. Exits non-zero with a message on the first mismatch."""

import imaplib
import sys

from imaplibtest import args, check, ok, tls

host, port, cert, user, password = args(2)
ctx = tls(cert)


def pop(m, name):
    """Pops the untagged responses (or response codes) named name."""
    return m.response(name)[1]


def fetches(m):
    return [d for d in pop(m, "FETCH") if d is not None]


m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
caps = ok("capability", m.capability())[0].split()
for c in (b"CONDSTORE", b"QRESYNC"):
    if c not in caps:
        sys.exit(f"{c!r} not in {caps!r}")
for i in range(5):
    ok("append", m.append("INBOX", None, None, b"Subject: m%d\r\n\r\nbody\r\n" % i))

# CONDSTORE: SELECT (CONDSTORE), HIGHESTMODSEQ.
ok("select condstore", m._simple_command("SELECT", "INBOX (CONDSTORE)"))
m.state = "SELECTED"  # imaplib tracks the state of its own select only
check("HIGHESTMODSEQ", pop(m, "HIGHESTMODSEQ"), [b"6"])
pop(m, "FETCH")
ok("store", m.store("1", "+FLAGS.SILENT", "(\\Flagged)"))  # 1 at 7
dat = ok("fetch changedsince", m.fetch("1:*", "(FLAGS) (CHANGEDSINCE 5)"))
# This session is the first to select INBOX: its messages are \Recent
# (IMAP4rev1, RFC 3501 §2.3.2); the next session's are not.
check("FETCH CHANGEDSINCE", dat, [b"1 (FLAGS (\\Flagged \\Recent) MODSEQ (7))", b"5 (FLAGS (\\Recent) MODSEQ (6))"])
# STORE UNCHANGEDSINCE: 1 fails (modseq 7 > 6), 2 and 3 go to 8.
dat = ok("conditional store", m.uid("STORE", "1:3", "(UNCHANGEDSINCE 6) +FLAGS", "(\\Seen)"))
check("MODIFIED", pop(m, "MODIFIED"), [b"1"])
check("FETCH after STORE", dat, [b"2 (UID 2 FLAGS (\\Seen \\Recent) MODSEQ (8))", b"3 (UID 3 FLAGS (\\Seen \\Recent) MODSEQ (8))"])
dat = ok("search modseq", m.uid("SEARCH", "MODSEQ", "8"))
check("SEARCH MODSEQ", dat, [b"2 3 (MODSEQ 8)"])
ok("status", m._simple_command("STATUS", "INBOX", "(HIGHESTMODSEQ)"))
check("STATUS HIGHESTMODSEQ", pop(m, "STATUS"), [b"INBOX (HIGHESTMODSEQ 8)"])
m.logout()

# QRESYNC: expunges as VANISHED, then a resync from modseq 6.
m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
ok("enable", m.enable("QRESYNC"))
check("ENABLED", pop(m, "ENABLED"), [b"QRESYNC"])
ok("select", m.select("INBOX"))
uidvalidity = pop(m, "UIDVALIDITY")[0].decode()
check("HIGHESTMODSEQ on a plain SELECT", pop(m, "HIGHESTMODSEQ"), [b"8"])
ok("store deleted", m.store("4:5", "+FLAGS.SILENT", "(\\Deleted)"))  # 9
ok("uid expunge", m.uid("EXPUNGE", "4"))  # 10
check("VANISHED (UID EXPUNGE)", pop(m, "VANISHED"), [b"4"])
ok("expunge", m.expunge())  # 11
check("VANISHED (EXPUNGE)", pop(m, "VANISHED"), [b"5"])
dat = ok("uid fetch vanished", m.uid("FETCH", "1:*", "(FLAGS) (CHANGEDSINCE 8 VANISHED)"))
check("UID FETCH VANISHED", pop(m, "VANISHED"), [b"(EARLIER) 4:5"])
ok("unselect", m.unselect())
ok("qresync select", m._simple_command("SELECT", "INBOX (QRESYNC (%s 6 1:5))" % uidvalidity))
m.state = "SELECTED"
check("resync HIGHESTMODSEQ", pop(m, "HIGHESTMODSEQ"), [b"11"])
check("resync VANISHED", pop(m, "VANISHED"), [b"(EARLIER) 4:5"])
check("resync FETCH", fetches(m), [
    b"1 (UID 1 FLAGS (\\Flagged) MODSEQ (7))",
    b"2 (UID 2 FLAGS (\\Seen) MODSEQ (8))",
    b"3 (UID 3 FLAGS (\\Seen) MODSEQ (8))",
])
m.logout()
print("ok")
