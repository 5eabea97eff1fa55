#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""A small HTTP server standing in for det-master in the Slurm tests: it
records every POST (path, Authorization header, JSON body) as one JSON line
in LOG and answers 200 {}. It listens on 127.0.0.1, on a free port that it
writes to PORTFILE once it is ready.

usage: listener.py PORTFILE LOG
"""
import http.server
import json
import os
import sys
import threading


class Recorder(http.server.BaseHTTPRequestHandler):
    lock = threading.Lock()
    log_path = ""

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(min(length, 1 << 20))
        try:
            body = json.loads(raw or b"null")
        except ValueError:
            body = {"unparsed": raw.decode("utf-8", "replace")}
        entry = {"path": self.path, "authorization": self.headers.get("Authorization"), "body": body}
        with self.lock, open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")
        answer = b"{}"
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, fmt, *args):
        pass


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    Recorder.log_path = sys.argv[2]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    with open(sys.argv[1] + ".tmp", "w", encoding="utf-8") as f:
        f.write(str(server.server_address[1]))
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    server.serve_forever()


if __name__ == "__main__":
    main()
