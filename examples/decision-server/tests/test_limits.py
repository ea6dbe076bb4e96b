"""The decision server bounds what one client can make it hold (issue 11):

- a body declared larger than the route takes is refused with 413 and a
  JSON error from its Content-Length, before any of it is read;
- a chunked body is cut off as it passes the limit: the server stops
  reading and closes, rather than reading it all;
- slow clients holding connections open with unfinished headers cannot
  hold the server: one address gets at most a few connections, and an
  idle connection is closed after --timeout seconds.

Loopback only (other clients come from 127.0.0.2 and 127.0.0.3, which are
local too), every loop bounded, and the server started here is the one
stopped."""
import http.client
import json
import socket
import sys
import time

from harness import Server

TIMEOUT_S = 2  # the server's --timeout for this test
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def connect(srv, source="127.0.0.1", timeout=5.0):
    s = socket.create_connection(("127.0.0.1", srv.port), timeout=timeout,
                                 source_address=(source, 0))
    return s


def read_reply(s, limit=1 << 16):
    """Everything until the server closes (or `limit` bytes, or the socket's
    timeout)."""
    data = b""
    try:
        while len(data) < limit:
            b = s.recv(4096)
            if not b:
                break
            data += b
    except socket.timeout:
        pass
    return data


def status_and_json(reply):
    head, _, body = reply.partition(b"\r\n\r\n")
    try:
        status = int(head.split(b" ", 2)[1])
        return status, json.loads(body.decode("utf-8"))
    except (IndexError, ValueError):
        return None, None


srv = Server(sys.argv[1], "--timeout", str(TIMEOUT_S))
try:
    # 1. 64 slow clients from one address, each with unfinished headers:
    # they get a few connections, the rest are refused, and another client
    # is served at once (it waited ~15 s before: all 64 slots taken).
    slow = []
    for _ in range(64):
        try:
            c = connect(srv, "127.0.0.2")
            c.sendall(b"GET / HTTP/1.1\r\nHost: t\r\n")  # never finished
            slow.append(c)
        except OSError:
            pass
    start = time.monotonic()
    try:
        st, _, body = srv.request("/p.gif?uid=patient")
    except (OSError, http.client.HTTPException) as e:  # refused: no slot left
        st, body = repr(e), b""
    took = time.monotonic() - start
    check(st == 200 and body.startswith(b"GIF89a") and took < 2,
          "a request beside 64 slow connections: %s in %.2fs" % (st, took))
    # Most of them were refused at once: the server closes them.
    refused = 0
    for c in slow:
        c.settimeout(0.5)
        try:
            refused += c.recv(1) == b""
        except socket.timeout:  # still open: one of the accepted
            pass
        except OSError:  # reset: refused
            refused += 1
    check(refused >= 64 - 16, "per-address limit: %d of 64 slow connections refused" % refused)
    for c in slow:
        c.close()

    # 2. A 200 MiB body declared: 413 at once, nothing of it sent.
    for path, size in (("/events", 200 * 1024 * 1024), ("/decide", 5000), ("/consent", 4097)):
        s = connect(srv)
        start = time.monotonic()
        s.sendall(b"POST %s HTTP/1.1\r\nHost: t\r\nContent-Type: application/json\r\n"
                  b"Content-Length: %d\r\n\r\n" % (path.encode(), size))
        reply = read_reply(s)
        took = time.monotonic() - start
        s.close()
        status, body = status_and_json(reply)
        check(status == 413 and body and "larger than" in body.get("error", ""),
              "%s with Content-Length %d: 413 and a JSON error, got %r" % (path, size, reply[:200]))
        check(took < 2, "%s: answered in %.2fs, before any body byte" % (path, took))
    # A body on a request that takes none is refused the same way.
    s = connect(srv)
    s.sendall(b"GET /p.gif HTTP/1.1\r\nHost: t\r\nContent-Length: 100000000\r\n\r\n")
    status, body = status_and_json(read_reply(s))
    s.close()
    check(status == 413 and body, "GET with a body: 413, got %r" % status)

    # 3. A chunked body that never ends: the server stops reading past the
    # 1 MiB limit.  Sending at most 256 chunks of 64 KiB (16 MiB), the
    # connection must be closed well before the end.
    s = connect(srv)
    s.sendall(b"POST /events HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"10000\r\n" + b"x" * 0x10000 + b"\r\n"
    sent, closed = 0, False
    for _ in range(256):
        try:
            s.sendall(chunk)
            sent += 1
        except OSError:  # EPIPE / ECONNRESET: the server closed
            closed = True
            break
    if not closed:  # everything fit in socket buffers: the close shows as EOF
        s.settimeout(3)
        try:
            closed = s.recv(1) == b""
        except OSError:
            closed = True
    s.close()
    check(closed and sent < 256, "chunked body cut off: %d chunks of 64 KiB sent, closed %s"
          % (sent, closed))

    # 4. An idle connection is closed after --timeout seconds.
    idle = connect(srv, "127.0.0.3", timeout=TIMEOUT_S + 5)
    idle.sendall(b"GET / HTTP/1.1\r\n")
    start = time.monotonic()
    try:
        got = idle.recv(1)
    except OSError:
        got = b""
    took = time.monotonic() - start
    idle.close()
    check(got == b"" and TIMEOUT_S - 1 <= took < TIMEOUT_S + 4,
          "idle connection closed after %.2fs (timeout %ds)" % (took, TIMEOUT_S))
    check(srv.alive(), "server still answers")
finally:
    srv.stop()
if failures:
    sys.exit("%d check(s) failed" % len(failures))
print("all checks passed")
