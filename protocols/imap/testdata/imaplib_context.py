"""CONTEXT=SEARCH and CONTEXT=SORT (RFC 5267 §4) through Python's imaplib,
which knows neither: SEARCH and SORT with RETURN (UPDATE) go out raw,
another connection changes the mailbox, and the ESEARCH updates (ADDTO,
REMOVEFROM) come back as untagged data imaplib files under ESEARCH; then
PARTIAL, NOUPDATE and CANCELUPDATE. Run by TestImaplibContext; argv: host
port cert user password. Exits non-zero with a message on the first
mismatch."""

import imaplib

from imaplibtest import args, check, fail, ok, tls

host, port, cert, user, password = args(2)
ctx = tls(cert)


def raw(m, name, text):
    """Sends one command line as is; returns its tag and tagged answer."""
    tag = m._new_tag()
    m.send(tag + b" " + text + b"\r\n")
    return tag.decode(), m._command_complete(name, tag)


def esearch(m):
    return m.untagged_responses.pop("ESEARCH", [])


m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
caps = ok("capability", m.capability())[0].split()
for cap in (b"CONTEXT=SEARCH", b"CONTEXT=SORT"):
    if cap not in caps:
        fail(f"{cap!r} not in {caps!r}")
for subject in (b"b", b"c", b"a"):
    ok("append", m.append("INBOX", None, None, b"Subject: " + subject + b"\r\n\r\nx\r\n"))
ok("select", m.select("INBOX"))

tag, (typ, _) = raw(m, "SEARCH", b"UID SEARCH RETURN (UPDATE ALL) UNSEEN")
check("search update", typ, "OK")
check("search result", esearch(m), [f'(TAG "{tag}") UID ALL 1:3'.encode()])
sort_tag, (typ, _) = raw(m, "SORT", b"UID SORT RETURN (UPDATE ALL) (SUBJECT) UTF-8 UNSEEN")
check("sort update", typ, "OK")
check("sort result", esearch(m), [f'(TAG "{sort_tag}") UID ALL 3,1:2'.encode()])

other = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("other login", other.login(user, password))
ok("other select", other.select("INBOX"))
ok("other store", other.store("1", "+FLAGS", "\\Seen"))
ok("other append", other.append("INBOX", None, None, b"Subject: 0\r\n\r\nx\r\n"))
other.logout()

ok("noop", m.noop())
check("updates", esearch(m), [
    f'(TAG "{tag}") UID REMOVEFROM (0 1)'.encode(),
    f'(TAG "{sort_tag}") UID REMOVEFROM (2 1)'.encode(),
    f'(TAG "{tag}") UID ADDTO (0 4)'.encode(),
    f'(TAG "{sort_tag}") UID ADDTO (1 4)'.encode(),
])

tag2, (typ, _) = raw(m, "SEARCH", b"SEARCH RETURN (PARTIAL 2:3) ALL")
check("partial", esearch(m), [f'(TAG "{tag2}") PARTIAL (2:3 2:3)'.encode()])
tag3, (typ, _) = raw(m, "SEARCH", b"SEARCH RETURN (UPDATE) 1:2")
check("noupdate", typ, "OK")
check("noupdate result", esearch(m), [f'(TAG "{tag3}")'.encode()])  # UPDATE alone: no ALL
check("noupdate code", m.untagged_responses.pop("NOUPDATE", None), [f'"{tag3}"'.encode()])

_, (typ, _) = raw(m, "CANCELUPDATE", f'CANCELUPDATE "{tag}" "{sort_tag}"'.encode())
check("cancelupdate", typ, "OK")
ok("store", m.store("2", "+FLAGS", "\\Seen"))
check("after cancel", esearch(m), [])
m.logout()
print("ok")
