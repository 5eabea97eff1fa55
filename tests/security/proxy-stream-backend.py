#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# A task that serves long answers for tests/security/proxy-stream.sh: it
# listens on a free port of 127.0.0.1, registers it with the master
# (DET_TASK_TOKEN) and writes files into the folder argv[1]:
#   ready.ID    the registration is done
#   big.sha256  the checksum of what /big answers
#   rest-sent   /first-then-rest is about to send its rest (after 5 s)
#   closed      /endless found its connection closed by the master
#   silent-closed  /silent found its connection closed by the master
# /big answers 200 MiB with a Content-Length; /first-then-rest sends a first
# line, waits 5 s, then the rest, with no length (the end is the close);
# /silent sends a first line, then nothing until the other side goes;
# /endless sends bytes until the other side goes.
import hashlib
import json
import os
import sys
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

BLOCK = hashlib.sha256(b"det-proxy-stream").digest() * 32768  # 1 MiB
BIG_MIB = 200
out = sys.argv[1]


def mark(name, text=""):
    tmp = os.path.join(out, name + ".tmp")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, os.path.join(out, name))


class Streams(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        if path.endswith("/big"):
            self.send_header("Content-Length", str(BIG_MIB * len(BLOCK)))
            self.end_headers()
            for _ in range(BIG_MIB):
                self.wfile.write(BLOCK)
        elif path.endswith("/first-then-rest"):
            self.end_headers()
            self.wfile.write(b"first-chunk\n")
            self.wfile.flush()
            time.sleep(5)
            mark("rest-sent")
            self.wfile.write(b"the-rest\n")
        elif path.endswith("/silent"):
            self.end_headers()
            self.wfile.write(b"first-chunk\n")
            self.wfile.flush()
            try:
                while self.connection.recv(1):
                    pass
            except OSError:
                pass
            mark("silent-closed")
        elif path.endswith("/endless"):
            self.end_headers()
            try:
                while True:
                    self.wfile.write(BLOCK)
            except OSError:
                mark("closed")
        self.close_connection = True

    def log_message(self, *args):
        pass


h = hashlib.sha256()
for _ in range(BIG_MIB):
    h.update(BLOCK)
mark("big.sha256", h.hexdigest())
srv = ThreadingHTTPServer(("127.0.0.1", 0), Streams)
threading.Thread(target=srv.serve_forever, daemon=True).start()
tok = os.environ["DET_TASK_TOKEN"]
req = urllib.request.Request(
    "%s/api/v1/tasks/%s/register" % (os.environ["DET_MASTER"], os.environ["DET_TASK_ID"]),
    data=json.dumps({"port": srv.server_address[1]}).encode(), method="POST",
    headers={"Authorization": "Bearer " + tok, "Content-Type": "application/json"})
urllib.request.urlopen(req).read()
mark("ready." + os.environ["DET_TASK_ID"])
while True:
    time.sleep(3600)
