"""COMPRESS=DEFLATE (RFC 4978) from Python. imaplib has no COMPRESS: the
script sends the command, then puts zlib's raw DEFLATE (wbits -15) under
imaplib's own read, readline and send, so that every later command (a
synchronising literal, SELECT, FETCH, LOGOUT) is imaplib's, parsed by
imaplib. Run by TestCompressPython; argv: host port cert user password.
Exits non-zero with a message on the first mismatch."""

import imaplib
import sys
import zlib

from imaplibtest import args, check, ok, tls

host, port, cert, user, password = args(2)
ctx = tls(cert)
imaplib.Commands["COMPRESS"] = ("AUTH", "SELECTED")  # unknown to imaplib


class Deflate:
    """Raw DEFLATE both ways over imaplib's socket: each command is
    compressed and flushed with Z_PARTIAL_FLUSH, as isync's mbsync does
    (no empty stored block after it, unlike Z_SYNC_FLUSH), responses
    inflated as they come."""

    def __init__(self, m):
        self.sock = m.sock
        self.comp = zlib.compressobj(6, zlib.DEFLATED, -15)
        self.decomp = zlib.decompressobj(-15)
        self.buf = b""
        self.wire_in = 0
        m.read, m.readline, m.send = self.read, self.readline, self.send

    def fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise imaplib.IMAP4.abort("connection closed")
        self.wire_in += len(data)
        self.buf += self.decomp.decompress(data)

    def read(self, size):
        while len(self.buf) < size:
            self.fill()
        out, self.buf = self.buf[:size], self.buf[size:]
        return out

    def readline(self):
        while b"\n" not in self.buf:
            self.fill()
        i = self.buf.index(b"\n") + 1
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def send(self, data):
        self.sock.sendall(self.comp.compress(data) + self.comp.flush(zlib.Z_PARTIAL_FLUSH))


m = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
ok("login", m.login(user, password))
caps = ok("capability", m.capability())[0].split()
if b"COMPRESS=DEFLATE" not in caps:
    sys.exit(f"COMPRESS=DEFLATE not in {caps!r}")
try:
    m._simple_command("COMPRESS", "LZ4")
    sys.exit("COMPRESS LZ4 accepted")
except imaplib.IMAP4.error:
    pass  # BAD
ok("compress", m._simple_command("COMPRESS", "DEFLATE"))
z = Deflate(m)

typ, dat = m._simple_command("COMPRESS", "DEFLATE")
check("second COMPRESS", typ, "NO")
if b"[COMPRESSIONACTIVE]" not in dat[0]:
    sys.exit(f"second COMPRESS: {dat!r}")
body = b"Subject: deflated\r\n\r\n" + b"a line that compresses well\r\n" * 2000
for i in range(3):
    ok("append", m.append("INBOX", None, None, body))  # a synchronising literal
check("select", ok("select", m.select("INBOX")), [b"3"])
dat = ok("fetch", m.fetch("1:*", "(BODY.PEEK[])"))
bodies = [d[1] for d in dat if isinstance(d, tuple)]
check("fetched bodies", bodies, [body] * 3)
if z.wire_in * 10 > 3 * len(body):
    sys.exit(f"{z.wire_in} bytes on the wire for 3 bodies of {len(body)}: not compressed")
check("logout", m.logout()[0], "BYE")
print("ok")
