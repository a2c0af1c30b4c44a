"""BINARY, MULTIAPPEND, CATENATE, PREVIEW, OBJECTID, SAVEDATE and WITHIN through
Python's imaplib, which knows none of them: the extended commands are
sent raw (fetch and search items, a MULTIAPPEND with LITERAL+) and the
answers read through imaplib's response parser. Run by
TestImaplibFetchExtensions; argv: host port cert user password. Prints
"ok", or exits non-zero with a message on the first mismatch."""

import base64
import imaplib
import re
import sys

from imaplibtest import args, check, ok, raw, tls

host, port, cert, user, password = args(2)
ctx = tls(cert)


m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
caps = ok("capability", m.capability())[0].split()
for c in (b"BINARY", b"MULTIAPPEND", b"CATENATE", b"PREVIEW", b"OBJECTID", b"SAVEDATE", b"WITHIN"):
    if c not in caps:
        sys.exit(f"{c!r} not advertised: {caps!r}")

# BINARY (RFC 3516): the decoded octets of a base64 part, NUL included.
blob = bytes(range(256))
msg = (b"Subject: binary\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
       b"--b\r\nContent-Type: text/plain\r\n\r\nHello  from\r\nimaplib\r\n"
       b"--b\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n"
       + base64.encodebytes(blob).replace(b"\n", b"\r\n") + b"--b--\r\n")
ok("append", m.append("INBOX", None, None, msg))
check("APPENDUID", m.response("APPENDUID")[1][0].split()[1], b"1")

# MULTIAPPEND (RFC 3502): two messages in one command, one APPENDUID set.
one, two = b"Subject: one\r\n\r\nfirst\r\n", b"Subject: two\r\n\r\nsecond\r\n"
ok("multiappend", raw(m, "APPEND", b"APPEND INBOX (\\Flagged) {%d+}\r\n%s {%d+}\r\n%s" % (len(one), one, len(two), two)))
uids = m.response("APPENDUID")[1][0].split()[1]
check("MULTIAPPEND APPENDUID uids", uids, b"2:3")

dat = ok("select", m.select("INBOX"))
check("messages", dat, [b"3"])
mailboxid = m.response("MAILBOXID")[1][0]
if not re.fullmatch(rb"\(F[0-9a-f]{24}\)", mailboxid):
    sys.exit(f"MAILBOXID in SELECT: {mailboxid!r}")

dat = ok("fetch binary", m.fetch("1", "(BINARY.PEEK[2] BINARY.SIZE[2])"))
check("BINARY[2]", dat[0][1], blob)
if b"BINARY.SIZE[2] 256" not in dat[1]:
    sys.exit(f"BINARY.SIZE: {dat!r}")

dat = ok("fetch preview", m.fetch("1:3", "(PREVIEW)"))
check("PREVIEW", dat, [b'1 (PREVIEW "Hello from imaplib")', b'2 (PREVIEW "first")', b'3 (PREVIEW "second")'])

# OBJECTID (RFC 8474).
dat = ok("fetch ids", m.fetch("2", "(EMAILID THREADID)"))
found = re.search(rb"EMAILID \((M[0-9a-f]{24})\) THREADID NIL", dat[0])
if not found:
    sys.exit(f"EMAILID/THREADID: {dat!r}")
emailid = found.group(1).decode()
check("search emailid", ok("search emailid", m.search(None, "EMAILID", emailid)), [b"2"])
check("search threadid", ok("search threadid", m.search(None, "THREADID", "T1")), [b""])
status = ok("status", m.status("INBOX", "(MESSAGES MAILBOXID)"))[0]
if b"MAILBOXID " + mailboxid not in status:
    sys.exit(f"STATUS MAILBOXID: {status!r}, SELECT said {mailboxid!r}")
ok("create", m.create("Copies"))
ok("copy", m.copy("2", "Copies"))
ok("examine", m.select("Copies", readonly=True))
dat = ok("fetch copied id", m.fetch("1", "(EMAILID)"))
if emailid.encode() not in dat[0]:
    sys.exit(f"EMAILID after COPY: {dat!r}, want {emailid}")

# CATENATE (RFC 4469): a TEXT part and a section of message 2 by URL.
ok("catenate", raw(m, "APPEND", b'APPEND Copies CATENATE (TEXT {9+}\r\nSubject:  URL "/INBOX/;UID=2/;SECTION=TEXT")'))
ok("examine", m.select("Copies", readonly=True))
dat = ok("fetch catenated", m.fetch("2", "(BODY.PEEK[])"))
check("CATENATE body", dat[0][1], b"Subject: first\r\n")

# SAVEDATE (RFC 8514) and WITHIN (RFC 5032).
ok("select", m.select("INBOX"))
dat = ok("fetch savedate", m.fetch("1", "(SAVEDATE)"))
if not re.search(rb'SAVEDATE "[ 0-9]\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d [+-]\d{4}"', dat[0]):
    sys.exit(f"SAVEDATE: {dat!r}")
check("savedatesupported", ok("search", m.search(None, "SAVEDATESUPPORTED")), [b"1 2 3"])
check("savedbefore", ok("search", m.search(None, "SAVEDBEFORE", "1-Jan-2000")), [b""])
check("younger", ok("search", m.search(None, "YOUNGER", "3600")), [b"1 2 3"])
check("older", ok("search", m.search(None, "OLDER", "3600")), [b""])
m.logout()
print("ok")
