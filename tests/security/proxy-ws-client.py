#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A WebSocket handshake through det-master's Unix socket (argv[1]) to
# argv[2] (a /proxy/ID/ path), then bytes sent and read back: prints the
# answer's status, its Sec-WebSocket-Accept and what came back.
import socket
import sys

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(60)
s.connect(sys.argv[1])
s.sendall(("GET %s HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
           "Sec-WebSocket-Version: 13\r\n\r\n" % sys.argv[2]).encode())
head = b""
while b"\r\n\r\n" not in head:
    chunk = s.recv(4096)
    if not chunk:
        break
    head += chunk
head, _, rest = head.partition(b"\r\n\r\n")
lines = head.decode("latin-1").split("\r\n")
status = lines[0].split(" ")[1] if lines and " " in lines[0] else "none"
accept = [v.split(":", 1)[1].strip() for v in lines[1:]
          if v.lower().startswith("sec-websocket-accept:")]
echo = ""
if status == "101":
    s.sendall(b"ping-bytes")
    got = rest
    while len(got) < len(b"ping-bytes"):
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
    echo = got.decode("latin-1")
print(status, accept[0] if accept else "-", echo or "-")
