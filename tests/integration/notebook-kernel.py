#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# Runs code in a notebook's kernel through det-master's /proxy/ID/ relay: a
# WebSocket to argv[3] (/proxy/ID/api/kernels/KID/channels) on 127.0.0.1:argv[1]
# with the bearer token argv[2], an execute_request of argv[4], then prints
# what the kernel wrote to stdout. Stdlib only (a minimal RFC 6455 client).
import json
import os
import socket
import struct
import sys
import uuid

port, token, path, code = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=60)
s.sendall(("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\nAuthorization: Bearer %s\r\n\r\n"
           % (path, port, token)).encode())
buf = b""
while b"\r\n\r\n" not in buf:
    chunk = s.recv(4096)
    if not chunk:
        print("closed during the handshake")
        sys.exit(1)
    buf += chunk
head, _, buf = buf.partition(b"\r\n\r\n")
if b" 101 " not in head.split(b"\r\n")[0] + b" ":
    print("handshake:", head.split(b"\r\n")[0].decode("latin-1"))
    sys.exit(1)


def send_text(data):
    mask = os.urandom(4)
    n = len(data)
    hdr = b"\x81" + (bytes([0x80 | n]) if n < 126 else
                     b"\xfe" + struct.pack(">H", n) if n < 65536 else
                     b"\xff" + struct.pack(">Q", n))
    s.sendall(hdr + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))


def need(n):
    global buf
    while len(buf) < n:
        chunk = s.recv(65536)
        if not chunk:
            raise EOFError
        buf += chunk
    out, buf = buf[:n], buf[n:]
    return out


def frame():
    b0, b1 = need(2)
    n = b1 & 0x7F
    if n == 126:
        n = struct.unpack(">H", need(2))[0]
    elif n == 127:
        n = struct.unpack(">Q", need(8))[0]
    mask = need(4) if b1 & 0x80 else None
    data = need(n)
    if mask:
        data = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
    return b0 & 0x0F, data


msg_id = uuid.uuid4().hex
send_text(json.dumps({
    "header": {"msg_id": msg_id, "username": "test", "session": uuid.uuid4().hex,
               "msg_type": "execute_request", "version": "5.3"},
    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
    "content": {"code": code, "silent": False, "store_history": False,
                "user_expressions": {}, "allow_stdin": False},
}).encode())
out = ""
try:
    while True:
        op, data = frame()
        if op == 8:
            break
        if op != 1:
            continue
        m = json.loads(data)
        if m.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        if m["msg_type"] == "stream" and m["content"].get("name") == "stdout":
            out += m["content"]["text"]
        if m["msg_type"] == "status" and m["content"].get("execution_state") == "idle":
            break
except (EOFError, socket.timeout):
    pass
print(out.strip())
