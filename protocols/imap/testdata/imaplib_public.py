"""Public folders, the "Shared/" namespace (RFC 2342 §5), through Python's
imaplib: the public account makes a folder and grants "anyone lr" and
"authenticated" more with imaplib's setacl; a user of the domain sees the
third namespace in imaplib's namespace, the folder in list, selects it,
stores and appends as the rights allow. Run by TestImaplibPublicFolders;
argv: host port cert public-account user password. Exits non-zero with a
message on the first mismatch, prints "ok" at the end."""

import imaplib

from imaplibtest import args, check, fail, ok, tls

host, port, cert, public, user, password = args(3)
ctx = tls(cert)


def login(who):
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    ok(f"login {who}", m.login(who, password))
    return m


p = login(public)
check("account's namespace", ok("namespace", p.namespace()), [b'(("" "/")) (("Other Users/" "/")) NIL'])
ok("create", p.create("Announcements"))
ok("create", p.create("Board"))
ok("append", p.append("Announcements", None, None, b"Subject: news\r\n\r\nhello\r\n"))
ok("setacl", p.setacl("Announcements", "anyone", "lr"))
ok("setacl", p.setacl("Board", "authenticated", "lrswi"))

u = login(user)
check("namespace", ok("namespace", u.namespace()), [b'(("" "/")) (("Other Users/" "/")) (("Shared/" "/"))'])
listed = ok("list", u.list('""', '"Shared/*"'))
check("LIST Shared/*", listed, [b'(\\HasNoChildren) "/" Shared/Announcements', b'(\\HasNoChildren) "/" Shared/Board'])
listed = ok("list", u.list('""', "%"))
if b'(\\Noselect \\HasChildren) "/" Shared' not in listed:
    fail(f"Shared not a \\Noselect parent in LIST: {listed!r}")
check("myrights", ok("myrights", u.myrights("Shared/Board")), [b"Shared/Board lrswi"])

# imaplib raises when a SELECT (not EXAMINE) answers READ-ONLY (RFC 4314
# §4: no right to change anything), leaving the mailbox selected.
try:
    u.select("Shared/Announcements")
    fail("SELECT of a folder with lr only is not READ-ONLY")
except u.readonly:
    pass
ok("examine", u.select("Shared/Announcements", readonly=True))
dat = ok("fetch", u.fetch("1", "(BODY.PEEK[TEXT])"))
check("fetched text", dat[0][1], b"hello\r\n")
typ, dat = u.store("1", "+FLAGS", r"(\Seen)")
check("store in a read-only folder", typ, "NO")
typ, dat = u.append("Shared/Announcements", None, None, b"Subject: no\r\n\r\nx\r\n")
check("append without i", typ, "NO")
typ, dat = u.create("Shared/Mine")
check("create under Shared/", typ, "NO")

ok("append", u.append("Shared/Board", r"(\Seen)", None, b"Subject: post\r\n\r\nboard\r\n"))
ok("select board", u.select("Shared/Board"))
check("READ-WRITE", u.response("READ-WRITE")[0], "READ-WRITE")
ok("store", u.store("1", "+FLAGS", r"(\Flagged)"))
ok("close", u.close())

# Flags are shared: the account sees the user's.
ok("account's select", p.select("Board"))
dat = ok("account's fetch", p.fetch("1", "(FLAGS)"))
check("flags seen by the account", dat, [b"1 (FLAGS (\\Flagged \\Seen))"])
p.logout()
u.logout()
print("ok")
