#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A task that serves HTTP for the proxy tests: it listens on a free port of
# 127.0.0.1, registers that port with the master (DET_TASK_TOKEN), writes
# the token to the file named by argv[1] (for the test's own checks) and
# answers every request with what it received, as JSON. A path ending in
# /slow answers after 15 s (a backend that keeps the master waiting). A
# WebSocket upgrade is accepted and every byte that follows is echoed.
import base64
import hashlib
import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Echo(BaseHTTPRequestHandler):
    def websocket(self):
        key = self.headers["Sec-WebSocket-Key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
        self.send_response(101)
        self.send_header("Upgrade", "websocket")
        self.send_header("Connection", "Upgrade")
        self.send_header("Sec-WebSocket-Accept",
                         base64.b64encode(hashlib.sha1(key.encode()).digest()).decode())
        self.end_headers()
        self.wfile.flush()
        while True:
            data = self.connection.recv(4096)
            if not data:
                break
            self.connection.sendall(data)
        self.close_connection = True

    def answer(self):
        if (self.headers.get("Upgrade") or "").lower() == "websocket":
            return self.websocket()
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n).decode("utf-8", "replace") if n else ""
        if self.path.split("?")[0].endswith("/slow"):
            time.sleep(15)
        out = json.dumps({"method": self.command, "path": self.path,
                          "headers": {k.lower(): v for k, v in self.headers.items()},
                          "body": body, "uid": os.getuid()}).encode()
        self.send_response(201 if self.command == "POST" else 200)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Set-Cookie", "backend=1; Path=/")
        self.send_header("X-Backend-Private", "not relayed")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(out)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = answer

    def log_message(self, *args):
        pass


srv = ThreadingHTTPServer(("127.0.0.1", 0), Echo)
threading.Thread(target=srv.serve_forever, daemon=True).start()
tok = os.environ["DET_TASK_TOKEN"]
with open(sys.argv[1], "w") as f:
    f.write(tok)
req = urllib.request.Request(
    "%s/api/v1/tasks/%s/register" % (os.environ["DET_MASTER"], os.environ["DET_TASK_ID"]),
    data=json.dumps({"port": srv.server_address[1]}).encode(), method="POST",
    headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
print(urllib.request.urlopen(req).read().decode(), flush=True)
while True:
    time.sleep(3600)
