"""SORT, ESORT and THREAD through Python's imaplib (sort_imaplib_test.go).

Usage: imaplib_sort.py HOST PORT CERT USER PASSWORD
Appends the messages given as JSON on stdin to INBOX, then prints, as
JSON, what imaplib's sort(), uid('SORT'), thread() and a raw ESORT
command answer.
"""
import imaplib
import json
import sys

from imaplibtest import args, tls

host, port, cert, user, password = args(2)
messages = json.load(sys.stdin)

ctx = tls(cert)
M = imaplib.IMAP4_SSL(host, int(port), ssl_context=ctx)
out = {}
M.login(user, password)
typ, dat = M.capability()
out["capabilities"] = dat[0].decode().split()
for m in messages:
    typ, _ = M.append("INBOX", None, m["date"], m["body"].encode())
    assert typ == "OK", typ
M.select("INBOX")


def words(dat):
    return [w for d in dat if d for w in d.decode().split()]


typ, dat = M.sort("(DATE)", "UTF-8", "ALL")
out["sort_date"] = [typ, words(dat)]
typ, dat = M.sort("(REVERSE SUBJECT ARRIVAL)", "US-ASCII", "ALL")
out["sort_reverse_subject"] = [typ, words(dat)]
typ, dat = M.uid("SORT", "(DISPLAYFROM)", "UTF-8", "ALL")
out["uid_sort_displayfrom"] = [typ, words(dat)]
typ, dat = M.thread("REFERENCES", "UTF-8", "ALL")
out["thread_references"] = [typ, [d.decode() for d in dat if d]]
typ, dat = M.uid("THREAD", "ORDEREDSUBJECT", "UTF-8", "ALL")
out["uid_thread_orderedsubject"] = [typ, [d.decode() for d in dat if d]]
typ, dat = M.thread("REFS", "UTF-8", "ALL")
out["thread_refs"] = [typ, [d.decode() for d in dat if d]]
# ESORT: imaplib knows no RETURN option; send the command raw and take
# the ESEARCH response it collected.
typ, dat = M._simple_command("SORT", "RETURN", "(MIN MAX COUNT)", "(DATE)", "UTF-8", "ALL")
typ, dat = M._untagged_response(typ, dat, "ESEARCH")
# '(TAG "A5") MIN 4 ...': the tag is imaplib's own.
out["esort"] = [typ, [d.decode().split(") ", 1)[-1] for d in dat if d]]
try:
    typ, dat = M.sort("(DATE)", "KOI8-R", "ALL")
    out["badcharset"] = [typ, [d.decode() for d in dat if d]]
except M.error as e:
    out["badcharset"] = ["NO", [str(e)]]
M.logout()
print(json.dumps(out))
