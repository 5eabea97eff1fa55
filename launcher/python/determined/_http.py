# SPDX-License-Identifier: GPL-2.0-or-later
"""A small JSON client for det-master over TCP ("http://host:port",
"https://host:port") or a Unix socket ("unix:/path"). Calls are retried while
the master cannot be reached (it may be restarting), so that no report is
lost. An https:// master's certificate is verified (host name included)
against the CA file named by DET_MASTER_CERT_FILE, else the system store; a
certificate that does not verify is an error at once, never retried."""

import http.client
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.parse

RETRY_SECONDS = 300


class MasterError(Exception):
    """det-master answered with an error status."""

    def __init__(self, status, message):
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(self.timeout)
        s.connect(self._path)
        self.sock = s


def munge_credential():
    """A fresh MUNGE credential from the munge command (the socket DET_MUNGE_SOCKET when
    set): the master knows the caller by its uid. Each credential is good for one request."""
    argv = ["munge", "-n"]
    if os.environ.get("DET_MUNGE_SOCKET"):
        argv += ["-S", os.environ["DET_MUNGE_SOCKET"]]
    try:
        out = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, check=True,
                             timeout=30)
    except (OSError, subprocess.SubprocessError) as e:
        raise MasterError(0, f"no MUNGE credential ({' '.join(argv)}): {e}") from None
    return out.stdout.decode().strip()


class Session:
    def __init__(self, master, token, timeout=65.0, munge=False):
        self.master = master
        self.token = token
        self.timeout = timeout
        self.munge = munge and not token
        if master.startswith("unix:"):
            self._unix = master[len("unix:"):]
            self._host = None
        else:
            u = urllib.parse.urlsplit(master if "://" in master else "http://" + master)
            if u.scheme not in ("http", "https") or not u.hostname:
                raise ValueError(
                    f"DET_MASTER={master!r}: expected http://host:port, https://host:port"
                    " or unix:/path")
            self._unix = None
            self._host = (u.hostname, u.port or 8080)
            self._tls = None
            if u.scheme == "https":
                self._tls = _tls_context(os.environ.get("DET_MASTER_CERT_FILE") or None)

    def _conn(self):
        if self._unix:
            return _UnixConnection(self._unix, self.timeout)
        if self._tls:
            return http.client.HTTPSConnection(self._host[0], self._host[1],
                                               timeout=self.timeout, context=self._tls)
        return http.client.HTTPConnection(self._host[0], self._host[1], timeout=self.timeout)

    def request(self, method, path, body=None, retry_seconds=RETRY_SECONDS):
        data = None if body is None else json.dumps(body).encode()
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        if data is not None:
            headers["Content-Type"] = "application/json"
        give_up = time.monotonic() + retry_seconds
        delay = 0.2
        while True:
            if self.munge:
                headers["Authorization"] = f"Munge {munge_credential()}"
            conn = self._conn()
            try:
                conn.request(method, "/api/v1" + path, body=data, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                status = resp.status
            except ssl.SSLCertVerificationError as e:
                raise MasterError(0, f"{method} {path}: the master's TLS certificate is not"
                                  f" trusted (name its CA with DET_MASTER_CERT_FILE): {e}")
            except (OSError, http.client.HTTPException):
                if time.monotonic() >= give_up:
                    raise
                status = None
            finally:
                conn.close()
            if status is not None and status not in (502, 503):
                return _answer(status, raw, method, path)
            if time.monotonic() >= give_up:
                raise MasterError(status or 0, f"{method} {path}: master unavailable")
            time.sleep(delay)
            delay = min(delay * 2, 5.0)

    def post(self, path, body):
        return self.request("POST", path, body)

    def get(self, path, retry_seconds=RETRY_SECONDS):
        return self.request("GET", path, retry_seconds=retry_seconds)


def _tls_context(ca_file):
    """Verifying TLS context: the CA file when given, else the system store."""
    try:
        return ssl.create_default_context(cafile=ca_file)
    except (OSError, ssl.SSLError) as e:
        raise ValueError(f"DET_MASTER_CERT_FILE={ca_file!r}: {e}") from e


def _answer(status, raw, method, path):
    try:
        obj = json.loads(raw) if raw else {}
    except ValueError:
        obj = None
    if 200 <= status < 300:
        if obj is None:
            raise MasterError(status, f"{method} {path}: answer is not JSON")
        return obj
    msg = raw.decode("utf-8", "replace")[:200]
    if isinstance(obj, dict) and isinstance(obj.get("error"), dict):
        msg = str(obj["error"].get("message", msg))
    raise MasterError(status, f"{method} {path}: {msg}")
