#!/usr/bin/env python3
"""lmtp_client.py - the LMTP conversations of t0150, through Python's
smtplib.LMTP and, where a client must misbehave, a raw socket.

Usage: lmtp_client.py CASE SOCKET [ARGS...]; prints "ok DESCRIPTION" or
"not ok DESCRIPTION: detail" lines that the shell test counts.  Mailbox
contents are checked by the shell test with mbctl, not here."""
import smtplib
import socket
import sys
import threading


def report(ok, desc, detail=""):
    print(("ok " if ok else "not ok ") + desc + ("" if ok else ": " + str(detail)))
    sys.stdout.flush()


def expect(got, want, desc):
    """GOT is (code, text); WANT a code, or "code x.y.z" to check the
    enhanced status code too."""
    code, text = got
    text = text.decode(errors="replace") if isinstance(text, bytes) else text
    wcode = int(str(want).split()[0])
    ok = code == wcode
    if ok and " " in str(want):
        ok = text.startswith(str(want).split()[1])
    report(ok, desc, "got %d %s, want %s" % (code, text, want))


def lmtp(sock):
    c = smtplib.LMTP(sock)
    c.ehlo("test.example")
    return c


def data_replies(c, msg, n):
    """DATA, then one reply per accepted recipient (smtplib.LMTP reads only
    the first)."""
    first = c.data(msg)
    return [first] + [c.getreply() for _ in range(n - 1)]


class Raw:
    """A client that speaks bytes, for what smtplib will not send."""

    def __init__(self, sock):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(sock)
        self.buf = b""
        self.line()                   # the greeting

    def send(self, b):
        self.s.sendall(b)

    def line(self):
        while b"\n" not in self.buf:
            d = self.s.recv(65536)
            if not d:
                return None
            self.buf += d
        l, self.buf = self.buf.split(b"\n", 1)
        return l.rstrip(b"\r").decode(errors="replace")

    def reply(self):
        """A whole (possibly multi-line) reply: its last line."""
        while True:
            l = self.line()
            if l is None or l[3:4] != "-":
                return l


def msg(subject, body="hello\r\n", size=0, header=0):
    """A message; SIZE bytes of body lines more, a header of HEADER bytes
    more (which the cache holds too)."""
    m = ("From: Sender <sender@example.org>\r\nTo: alice@example.com\r\n"
         "Subject: %s\r\nMessage-ID: <%s@test>\r\n%s\r\n%s" %
         (subject, subject, "X-Filler: %s\r\n" % ("f" * header) if header else "", body))
    if size:
        line = "x" * 76 + "\r\n"
        m += line * (size // len(line))
    return m.encode()


def case_basic(sock):
    c = lmtp(sock)
    for f in ("pipelining", "8bitmime", "enhancedstatuscodes", "size"):
        report(c.has_extn(f), "LHLO offers " + f.upper())
    expect(c.mail("sender@example.org", ["BODY=8BITMIME", "SIZE=1000"]), "250 2.1.0",
           "MAIL FROM with BODY=8BITMIME and SIZE")
    expect(c.rcpt("alice@example.com"), 250, "RCPT alice")
    expect(c.rcpt("alice+lists@example.com"), 250, "RCPT alice+lists (a folder)")
    expect(c.rcpt("alice+nosuch@elsewhere.net"), 250, "RCPT alice+nosuch (INBOX)")
    expect(c.rcpt("nobody@example.com"), "550 5.1.1", "RCPT of an unknown user: 550 5.1.1")
    expect(c.rcpt("bob@example.com"), 250, "RCPT bob")
    # smtplib stuffs the dot; the server must take it off again.
    body = ("Dot-stuffed:\r\n.leading dot\r\n8bit: gr\u00fc\u00dfe\r\n"
            "lmtpbasicword\r\n")
    r = data_replies(c, msg("basic", body), 4)
    for i, who in enumerate(("alice", "alice+lists", "alice+nosuch", "bob")):
        expect(r[i], "250 2.0.0", "DATA reply %d (%s): 250" % (i + 1, who))
    expect(c.noop(), 250, "the connection goes on after DATA")
    c.quit()


def case_rset(sock):
    c = lmtp(sock)
    expect(c.docmd("RCPT TO:<alice@x>"), "503 5.5.1", "RCPT before MAIL: 503")
    expect(c.docmd("DATA"), "503 5.5.1", "DATA before MAIL: 503")
    c.mail("s@x")
    expect(c.docmd("MAIL FROM:<s@x>"), "503 5.5.1", "nested MAIL: 503")
    c.rcpt("nobody@x")
    expect(c.docmd("DATA"), "503 5.5.1", "DATA with no valid recipient: 503")
    expect(c.rset(), 250, "RSET")
    expect(c.docmd("RCPT TO:<alice@x>"), "503 5.5.1", "RSET ended the transaction")
    expect(c.docmd("MAIL FROM:<s@x> FOO=BAR"), "555 5.5.4", "unknown MAIL parameter: 555")
    c.quit()


def case_size(sock, limit):
    limit = int(limit)
    c = lmtp(sock)
    report(c.esmtp_features.get("size") == str(limit), "LHLO says SIZE %d" % limit,
           c.esmtp_features.get("size"))
    expect(c.mail("s@x", ["SIZE=%d" % (limit + 1)]), "552 5.3.4",
           "MAIL with SIZE over the limit: 552")
    expect(c.mail("s@x"), 250, "MAIL without SIZE")
    c.rcpt("bob@example.com")
    c.rcpt("alice@example.net")
    # Stored with LF line ends: 10% over on the wire is still over.
    r = data_replies(c, msg("toobig", size=limit + limit // 10), 2)
    expect(r[0], "552 5.3.4", "a message over the limit: 552 for the first recipient")
    expect(r[1], "552 5.3.4", "and for the second")
    expect(c.noop(), 250, "the connection goes on")
    c.quit()


def case_domains(sock):
    """lmtp_domains: example.com"""
    c = lmtp(sock)
    c.mail("s@x")
    expect(c.rcpt("bob@other.org"), "550 5.1.2", "a domain not in lmtp_domains: 550 5.1.2")
    expect(c.rcpt("bob"), "550 5.1.2", "no domain, with lmtp_domains set: 550 5.1.2")
    expect(c.rcpt("bob@Example.COM"), 250, "a domain of lmtp_domains, in any case: 250")
    c.quit()


def case_big(sock, size):
    c = lmtp(sock)
    c.mail("s@x", ["SIZE=%s" % size])
    c.rcpt("bob@x")
    expect(c.data(msg("big", size=int(size))), "250 2.0.0", "a message of %s bytes" % size)
    c.quit()


def case_bare_lf(sock):
    r = Raw(sock)
    r.send(b"LHLO bare\nMAIL FROM:<s@x>\nRCPT TO:<bob@x>\nDATA\n")
    replies = [r.reply() for _ in range(4)]
    report(replies[3].startswith("354"), "bare LF commands, pipelined: 354", replies)
    r.send(b"Subject: barelf\nMessage-ID: <barelf@test>\n\nline one\n..two\n.\n")
    expect((int(r.reply()[:3]), ""), 250, "bare LF message: 250")
    r.send(b"QUIT\n")
    report(r.reply().startswith("221"), "QUIT: 221")


def case_pipelining(sock):
    r = Raw(sock)
    r.send(b"LHLO p\r\nMAIL FROM:<s@x>\r\nRCPT TO:<alice@x>\r\nRCPT TO:<nobody@x>\r\n"
           b"RCPT TO:<bob@x>\r\nDATA\r\n")
    got = [r.reply()[:3] for _ in range(6)]
    report(got == ["250", "250", "250", "550", "250", "354"],
           "pipelined LHLO MAIL RCPT RCPT RCPT DATA: replies in order", got)
    r.send(b"Subject: piped\r\nMessage-ID: <piped@test>\r\n\r\npiped\r\n.\r\n"
           b"MAIL FROM:<s@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\n")
    got = [r.reply()[:3] for _ in range(5)]
    report(got == ["250", "250", "250", "250", "354"],
           "two DATA replies, then the next transaction's", got)
    r.send(b"Subject: piped2\r\n\r\nx\r\n.\r\nQUIT\r\n")
    got = [r.reply()[:3] for _ in range(2)]
    report(got == ["250", "221"], "last DATA and QUIT", got)


def case_longline(sock):
    r = Raw(sock)
    r.send(b"LHLO l\r\n")
    r.reply()
    r.send(b"NOOP " + b"x" * 1500 + b"\r\n")
    got = r.reply()
    report(got.startswith("500 5.5.2"), "a command line of 1,507 bytes: 500 5.5.2", got)
    r.send(b"NOOP " + b"y" * 200000 + b"\r\n")
    got = r.reply()
    report(got.startswith("500 5.5.2"), "a command line of 200,007 bytes: 500 5.5.2", got)
    r.send(b"NOOP\r\n")
    got = r.reply()
    report(got.startswith("250"), "the connection goes on", got)
    r.send(b"MAIL FROM:<s@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\n")
    [r.reply() for _ in range(3)]
    r.send(b"Subject: longline\r\nMessage-ID: <longline@test>\r\n\r\n" + b"z" * 5000 +
           b"\r\n" + b"." + b"w" * 100000 + b"\r\n.\r\n")
    got = r.reply()
    report(got.startswith("250"), "message lines of 5,000 and 100,001 bytes: 250", got)
    r.send(b"QUIT\r\n")


def case_garbage(sock):
    r = Raw(sock)
    r.send(b"EHLO x\r\n")
    got = r.reply()
    report(got.startswith("500 5.5.1"), "EHLO: 500 (this is LMTP)", got)
    r.send(b"MAIL FROM:<s@x>\r\n")
    got = r.reply()
    report(got.startswith("503"), "MAIL before LHLO: 503", got)
    r.send(b"LHLO x\r\nMAIL FROM:s@x\r\n")
    r.reply()
    got = r.reply()
    report(got.startswith("501"), "MAIL FROM without <>: 501", got)
    r.send(b"\x00\xff\xfe garbage\r\n")
    got = r.reply()
    report(got.startswith("500"), "binary garbage: 500", got)
    r.send(b"FOO\r\n" * 30)
    got = [r.reply() for _ in range(30)]
    last = [g for g in got if g is not None][-1]
    report(last.startswith("421"), "many bad commands: 421 at last", last)
    report(got[-1] is None, "then the connection is closed", got[-3:])


def case_disconnect(sock):
    r = Raw(sock)
    r.send(b"LHLO x\r\nMAIL FROM:<s@x>\r\nRCPT TO:<bob@x>\r\nDATA\r\n")
    got = [r.reply() for _ in range(4)]
    report(got[3].startswith("354"), "354 before the disconnect", got)
    r.send(b"Subject: cut\r\n\r\nhalf a message" + b"q" * 10000)
    r.s.close()
    report(True, "client went away mid-DATA")


def case_many_rcpts(sock, n):
    n = int(n)
    r = Raw(sock)
    r.send(b"LHLO x\r\nMAIL FROM:<s@x>\r\n")
    r.reply()
    r.reply()
    # Sent from a thread: the replies must be read while it sends.
    t = threading.Thread(target=r.send,
                         args=(b"".join(b"RCPT TO:<alice+%d@x>\r\n" % i for i in range(n)),))
    t.start()
    got = [r.reply()[:9] for _ in range(n)]
    t.join()
    ok = got.count("250 2.1.5")
    tempfail = got.count("452 4.5.3")
    report(ok == 1000 and tempfail == n - 1000,
           "%d RCPTs: 1,000 accepted, the rest 452 4.5.3" % n, (ok, tempfail))
    r.send(b"DATA\r\n")
    r.reply()
    r.send(b"Subject: many\r\nMessage-ID: <many@test>\r\n\r\nmany\r\n.\r\n")
    got = [r.reply()[:3] for _ in range(1000)]
    report(got == ["250"] * 1000, "one 250 per accepted recipient", set(got))
    r.send(b"QUIT\r\n")
    report(r.reply().startswith("221"), "QUIT after many recipients")


def case_one(sock, rcpt, subject, want, size="0", header="0"):
    """One message to RCPT; WANT is the expected DATA reply (code [x.y.z])."""
    c = lmtp(sock)
    c.mail("s@x")
    expect(c.rcpt(rcpt), 250, "RCPT %s" % rcpt)
    try:
        got = c.data(msg(subject, size=int(size), header=int(header)))
    except smtplib.SMTPDataError as e:
        got = (e.smtp_code, e.smtp_error)
    expect(got, want, "%s: DATA reply %s" % (subject, want))
    c.quit()


def case_killed(sock, rcpt):
    """The connection process dies (fault point) before replying."""
    c = lmtp(sock)
    c.mail("s@x")
    c.rcpt(rcpt)
    try:
        got = c.data(msg("killed"))
        report(False, "no reply from a killed delivery", got)
    except smtplib.SMTPServerDisconnected:
        report(True, "no reply from a killed delivery: connection closed")


def case_idle(sock, ready):
    """Waits connected and idle until the server says 421 (SIGTERM)."""
    r = Raw(sock)
    r.send(b"LHLO x\r\n")
    r.reply()
    open(ready, "w").close()
    got = r.reply()
    report(got is not None and got.startswith("421"), "SIGTERM: an idle client gets 421", got)


def case_greeting_wait(sock, nconns):
    """lmtp_max_connections = NCONNS: one more connection is not served
    until one ends."""
    n = int(nconns)
    held = [Raw(sock) for _ in range(n)]
    report(True, "%d connections greeted" % n)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    s.settimeout(0.3)
    try:
        s.recv(100)
        report(False, "connection %d waits for a free slot" % (n + 1))
    except socket.timeout:
        report(True, "connection %d waits for a free slot" % (n + 1))
    held[0].send(b"QUIT\r\n")
    held[0].reply()
    s.settimeout(None)
    got = s.recv(100)
    report(got.startswith(b"220"), "it is greeted once one ends", got)


CASES = {name[5:]: f for name, f in globals().items() if name.startswith("case_")}

if __name__ == "__main__":
    CASES[sys.argv[1]](*sys.argv[2:])
