"""ACL (RFC 4314), the Other Users namespace (RFC 2342) and METADATA (RFC
5464) through Python's imaplib: its own getacl, setacl, deleteacl,
myrights and namespace, and raw commands for LISTRIGHTS, GETMETADATA and
SETMETADATA, which it does not know. Run by TestImaplibACL; argv: host
port cert alice bob password. Exits non-zero with a message on the first
mismatch, prints "ok" at the end."""

import imaplib

from imaplibtest import args, check, fail, ok, tls

host, port, cert, alice, bob, password = args(3)
ctx = tls(cert)
for name in ("LISTRIGHTS", "GETMETADATA", "SETMETADATA"):
    imaplib.Commands.setdefault(name, ("AUTH", "SELECTED"))


def login(user):
    m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
    ok(f"login {user}", m.login(user, password))
    return m


a = login(alice)
caps = ok("capability", a.capability())[0].split()
for c in (b"ACL", b"RIGHTS=texk", b"METADATA", b"METADATA-SERVER"):
    if c not in caps:
        fail(f"{c!r} not in {caps!r}")
ok("create", a.create("Team"))
ok("append", a.append("Team", r"(\Flagged)", None, b"Subject: py\r\n\r\nhello\r\n"))
ok("setacl", a.setacl("Team", bob, "lrs"))
check("getacl", ok("getacl", a.getacl("Team")),
      [f"Team {alice} lrswipkxteacd {bob} lrs".encode()])
check("myrights", ok("myrights", a.myrights("Team")), [b"Team lrswipkxteacd"])
ok("listrights", a._simple_command("LISTRIGHTS", "Team", bob))
check("LISTRIGHTS", a.response("LISTRIGHTS")[1],
      [f'Team {bob} "" l r s w i p k x t e a c d'.encode()])
ok("setmetadata", a._simple_command("SETMETADATA", "Team", '(/shared/comment "team folder")'))

shared = f'"Other Users/{alice}/Team"'
b = login(bob)
check("namespace", ok("namespace", b.namespace()), [b'(("" "/")) (("Other Users/" "/")) NIL'])
listed = ok("list", b.list('""', '"Other Users/*"'))
if f'(\\HasNoChildren) "/" {shared}'.encode() not in listed:
    fail(f"{shared} not in LIST: {listed!r}")
check("bob's myrights", ok("myrights", b.myrights(shared)), [f"{shared} lrs".encode()])
typ, dat = b.getacl(shared)
check("bob's getacl", typ, "NO")
typ, dat = b.setacl(shared, bob, "+w")
check("bob's setacl", typ, "NO")

ok("select", b.select(shared))
check("READ-WRITE", b.response("READ-WRITE")[0], "READ-WRITE")
dat = ok("fetch", b.fetch("1", "(BODY.PEEK[TEXT])"))
check("fetched text", dat[0][1], b"hello\r\n")
# No t right: STORE \Deleted is answered OK and ignored, as Dovecot does.
ok("store deleted", b.store("1", "+FLAGS", r"(\Deleted)"))
typ, dat = b.expunge()
check("expunge without e", typ, "NO")
ok("getmetadata", b._simple_command("GETMETADATA", shared, "/shared/comment"))
check("METADATA", b.response("METADATA")[1], [f'{shared} (/shared/comment "team folder")'.encode()])
typ, dat = b._simple_command("SETMETADATA", shared, '(/shared/comment "mine")')
check("setmetadata without w", typ, "NO")
ok("private annotation", b._simple_command("SETMETADATA", shared, '(/private/comment "mine")'))
ok("close", b.close())

ok("select as owner", a.select("Team"))
dat = ok("owner's fetch", a.fetch("1", "(FLAGS)"))
check("flags after bob's store", dat, [b"1 (FLAGS (\\Flagged))"])
ok("deleteacl", a.deleteacl("Team", bob))
typ, dat = b.myrights(shared)
check("myrights after deleteacl", typ, "NO")
a.logout()
b.logout()
print("ok")
