"""What every testdata/imaplib_*.py script shares: its arguments, a TLS
context that trusts exactly the test server's certificate, and the
checks that end the script with a message on the first mismatch. The
scripts are run by runImaplib (imaplib_test.go) as
`python3 -B SCRIPT HOST PORT CERT ARGS...`; Python puts the script's
folder first on sys.path, so `import imaplibtest` finds this file."""

import ssl
import sys


def args(n):
    """Returns host, port, cert and the script's own n arguments."""
    if len(sys.argv) != 4 + n:
        sys.exit(f"usage: {sys.argv[0]} HOST PORT CERT and {n} more arguments")
    return sys.argv[1:]


def tls(cert):
    """A client context that trusts cert, whatever name the server gives."""
    ctx = ssl.create_default_context(cafile=cert)
    ctx.check_hostname = False
    return ctx


def fail(msg):
    sys.exit(msg)


def check(what, got, want):
    if got != want:
        fail(f"{what}: got {got!r}, want {want!r}")


def ok(what, res):
    """Returns the data of an imaplib result, or fails unless it is OK."""
    typ, dat = res
    if typ != "OK":
        fail(f"{what}: {typ} {dat!r}")
    return dat


def raw(m, name, text):
    """Sends one command line as is and waits for its tagged answer."""
    tag = m._new_tag()
    m.send(tag + b" " + text + b"\r\n")
    return m._command_complete(name, tag)
