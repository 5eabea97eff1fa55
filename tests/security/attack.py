#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Hostile HTTP clients for the security tests (stdlib only, loopback only).

Every client binds its source address (e.g. 127.0.0.2) so that per-address
limits hit the attacker and not the test's own clients on 127.0.0.1.

  attack.py bodies PORT SRC N MIB PATH PID   N clients announce and send MIB MiB
                                             bodies; prints statuses and the
                                             largest VmRSS of PID (kB)
  attack.py halfopen PORT SRC N SECONDS      N connections that send half a
                                             request line, held SECONDS
  attack.py logins PORT SRC N USER...        N parallel bad logins (users in turn)
  attack.py raw PORT SRC                     send stdin as is; print the reply
  attack.py slowloris PORT SRC N SECONDS head|body
                                             N connections trickling a request
                                             head (or a login body) a byte every
                                             0.5 s; prints how many the server
                                             closed and the longest one lived
  attack.py clte PORT SRC                    a chunked login that also carries
                                             a matching Content-Length; print the reply
"""
import json
import os
import resource
import socket
import sys
import threading
import time


def connect(port, src, timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    s.bind((src, 0))
    s.connect(("127.0.0.1", port))
    return s


def read_reply(s):
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            head, sep, rest = data.partition(b"\r\n\r\n")
            if sep:
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        length = int(v.strip())
                if len(rest) >= length:
                    break
    except OSError:
        pass
    return data


def status_of(reply):
    parts = reply.split(b" ", 2)
    return parts[1].decode() if len(parts) > 1 and reply.startswith(b"HTTP/") else "none"


def rss_kb(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def bodies(port, src, n, mib, path, pid):
    statuses = [None] * n
    size = mib * 1024 * 1024
    chunk = b"a" * (1024 * 1024)

    def one(i):
        try:
            s = connect(port, src)
        except OSError:
            statuses[i] = "noconnect"
            return
        head = ("POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                "Content-Length: %d\r\n\r\n" % (path, size)).encode()
        try:
            s.sendall(head)
            for _ in range(mib):
                s.sendall(chunk)
        except OSError:
            pass  # the server answered and closed: the point of the test
        statuses[i] = status_of(read_reply(s))
        s.close()

    peak = [rss_kb(pid)]
    done = threading.Event()

    def sample():
        while not done.is_set():
            peak[0] = max(peak[0], rss_kb(pid))
            time.sleep(0.02)

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    time.sleep(0.5)
    done.set()
    sampler.join()
    print(json.dumps({"statuses": statuses, "peak_rss_kb": peak[0]}))


def halfopen(port, src, n, seconds):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = n + 64
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard) if hard > 0 else want, hard))
    socks = []
    failed = 0
    deadline = time.monotonic() + 60
    for _ in range(n):
        if time.monotonic() > deadline:
            break
        try:
            s = connect(port, src, timeout=5)
            s.sendall(b"GET /api/v1/experim")
            socks.append(s)
        except OSError:
            failed += 1
    print(json.dumps({"opened": len(socks), "failed": failed}), flush=True)
    time.sleep(seconds)
    for s in socks:
        s.close()


def logins(port, src, n, users):
    out = [None] * n

    def one(i):
        body = json.dumps({"username": users[i % len(users)], "password": "wrong-%d" % i})
        req = ("POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
               "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
               % (len(body), body)).encode()
        try:
            s = connect(port, src, timeout=60)
            s.sendall(req)
            out[i] = status_of(read_reply(s))
            s.close()
        except OSError:
            out[i] = "error"

    threads = [threading.Thread(target=one, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(" ".join(out))


def raw(port, src):
    s = connect(port, src)
    s.sendall(sys.stdin.buffer.read())
    sys.stdout.buffer.write(read_reply(s))
    s.close()


def slowloris(port, src, n, seconds, mode):
    if mode == "head":
        start = b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nX-Pad: "
    else:
        start = (b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    socks = {}
    t0 = time.monotonic()
    for i in range(n):
        s = connect(port, src, timeout=5)
        s.sendall(start)
        socks[i] = s
    lived = 0.0
    closed = 0
    while socks and time.monotonic() - t0 < seconds:
        time.sleep(0.5)
        for i, s in list(socks.items()):
            try:
                s.sendall(b"a")
                s.setblocking(False)
                try:
                    gone = s.recv(4096) == b""
                except BlockingIOError:
                    gone = False
                s.setblocking(True)
            except OSError:
                gone = True
            if gone:
                lived = max(lived, time.monotonic() - t0)
                closed += 1
                s.close()
                del socks[i]
    for s in socks.values():
        s.close()
    print(json.dumps({"closed": closed, "open": len(socks), "longest_s": round(lived, 1)}))


def clte(port, src):
    body = b'{"username": "a", "password": "b"}'
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body)
    s = connect(port, src)
    s.sendall(b"POST /api/v1/auth/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
              b"Content-Length: %d\r\nTransfer-Encoding: chunked\r\n\r\n%s" % (len(chunked), chunked))
    sys.stdout.buffer.write(read_reply(s))
    s.close()


def main():
    cmd, port, src = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if cmd == "bodies":
        bodies(port, src, int(sys.argv[4]), int(sys.argv[5]), sys.argv[6], int(sys.argv[7]))
    elif cmd == "halfopen":
        halfopen(port, src, int(sys.argv[4]), float(sys.argv[5]))
    elif cmd == "logins":
        logins(port, src, int(sys.argv[4]), sys.argv[5:])
    elif cmd == "raw":
        raw(port, src)
    elif cmd == "slowloris":
        slowloris(port, src, int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
    elif cmd == "clte":
        clte(port, src)
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
