"""QUOTA (RFC 9208) through Python's imaplib: getquotaroot, getquota and
setquota, which imaplib sends and parses itself. Run by TestImaplibQuota;
argv: host port cert user nolimit-user password (user has a 1 MiB and
2-message quota, nolimit-user none). Exits non-zero with a message on the first mismatch."""

import imaplib
import sys

from imaplibtest import args, check, ok, tls

host, port, cert, user, nolimit, password = args(3)
ctx = tls(cert)


m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
caps = ok("capability", m.capability())[0].split()
for c in (b"QUOTA", b"QUOTA=RES-STORAGE", b"QUOTA=RES-MESSAGE"):
    if c not in caps:
        sys.exit(f"{c!r} not in {caps!r}")
ok("append", m.append("INBOX", None, None, b"Subject: q\r\n\r\n" + b"x" * 3000 + b"\r\n"))
# imaplib returns [QUOTAROOT data, QUOTA data].
dat = ok("getquotaroot", m.getquotaroot("INBOX"))
check("getquotaroot", dat, [[b'INBOX "User quota"'], [b'"User quota" (STORAGE 3 1024 MESSAGE 1 2)']])
dat = ok("getquota", m.getquota('"User quota"'))
check("getquota", dat, [b'"User quota" (STORAGE 3 1024 MESSAGE 1 2)'])
ok("second append", m.append("INBOX", None, None, b"Subject: q2\r\n\r\nx\r\n"))
typ, dat = m.append("INBOX", None, None, b"Subject: q3\r\n\r\nx\r\n")
check("append past the message limit", (typ, dat[0][:12]), ("NO", b"[OVERQUOTA] "))
dat = ok("getquota when full", m.getquota('"User quota"'))
check("getquota when full", dat, [b'"User quota" (STORAGE 3 1024 MESSAGE 2 2)'])
typ, dat = m.getquota('""')
check("getquota of another root", typ, "NO")
typ, dat = m.setquota('"User quota"', "(STORAGE 2048)")
check("setquota", typ, "NO")
m.logout()

m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(nolimit, password))
# No quota: imaplib finds no QUOTAROOT or QUOTA response.
dat = ok("getquotaroot without quota", m.getquotaroot("INBOX"))
check("getquotaroot without quota", dat, [[None], [None]])
m.logout()
print("ok")
