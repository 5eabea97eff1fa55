#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Park N `logs?follow=1` long polls on det-master's Unix socket (stdlib only).

usage: longpoll-client.py SOCKET TRIAL N DONE_FILE
Prints "parked" once every request is sent and the master has had a second
to park them, holds them until DONE_FILE exists (at most 120 s), then prints
"answered K": how many got an answer meanwhile."""
import os
import socket
import sys
import time

path, trial, n, done = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
conns = []
req = ("GET /api/v1/trials/%s/logs?follow=1&after=1000000000 HTTP/1.1\r\n"
       "Host: localhost\r\n\r\n" % trial).encode()
for _ in range(n):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(60)
    for _ in range(600):  # a full listen backlog answers EAGAIN: try again
        try:
            s.connect(path)
            break
        except BlockingIOError:
            time.sleep(0.1)
    s.sendall(req)
    conns.append(s)
time.sleep(1)
print("parked", flush=True)
for _ in range(1200):
    if os.path.exists(done):
        break
    time.sleep(0.1)
answered = 0
for s in conns:
    s.setblocking(False)
    try:
        if s.recv(1):
            answered += 1
    except BlockingIOError:
        pass
    s.close()
print("answered", answered, flush=True)
