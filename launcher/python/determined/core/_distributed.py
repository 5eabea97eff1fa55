# SPDX-License-Identifier: GPL-2.0-or-later
"""Collectives of picklable objects between the trial's processes
(``core_context.distributed``), through the chief over TCP.

The chief listens on chief_ip:port; every worker connects once and says its
rank. Each message is a length-prefixed pickle followed by its HMAC-SHA256
under a key every rank knows (DET_SESSION_TOKEN on-cluster), checked before
anything is unpickled, so a stranger who reaches the port cannot make a rank
run code. The port is ``port`` (or ``pub_port``) when given, else DET_DIST_PORT
(a second free port det-launch finds next to MASTER_PORT, which is left to
torch.distributed), else MASTER_PORT + 1, else 12360; plus port_offset."""

import hashlib
import hmac
import os
import pickle
import socket
import struct
import time

CONNECT_SECONDS = 300
MAX_MESSAGE_BYTES = 1 << 30


class DistributedError(Exception):
    pass


def _key():
    k = os.environ.get("DET_DIST_KEY") or os.environ.get("DET_SESSION_TOKEN") or "det-slurm"
    return k.encode()


def _recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise DistributedError("a peer closed the connection")
        buf += chunk
    return bytes(buf)


def _send(sock, key, obj):
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    mac = hmac.new(key, data, hashlib.sha256).digest()
    sock.sendall(struct.pack("!Q", len(data)) + data + mac)


def _recv(sock, key):
    (n,) = struct.unpack("!Q", _recv_exact(sock, 8))
    if n > MAX_MESSAGE_BYTES:
        raise DistributedError(f"message of {n} bytes is over the limit")
    data = _recv_exact(sock, n)
    mac = _recv_exact(sock, 32)
    if not hmac.compare_digest(mac, hmac.new(key, data, hashlib.sha256).digest()):
        raise DistributedError("a message failed authentication")
    return pickle.loads(data)


class DistributedContext:
    """Rank information and allgather/gather/broadcast through the chief."""

    def __init__(self, *, rank, size, local_rank, local_size, cross_rank, cross_size,
                 chief_ip=None, pub_port=None, pull_port=None, port_offset=0, force_tcp=False,
                 port=None):
        for name, v, lim in (("rank", rank, size), ("local_rank", local_rank, local_size),
                             ("cross_rank", cross_rank, cross_size)):
            if not isinstance(v, int) or not isinstance(lim, int) or not 0 <= v < lim:
                raise ValueError(f"{name}={v!r} must be within [0, {lim!r})")
        self.rank, self.size = rank, size
        self.local_rank, self.local_size = local_rank, local_size
        self.cross_rank, self.cross_size = cross_rank, cross_size
        self._key = _key()
        self._chief_ip = chief_ip or os.environ.get("MASTER_ADDR") or "127.0.0.1"
        if port is None:
            port = pub_port
        if port is None and os.environ.get("DET_DIST_PORT"):
            port = int(os.environ["DET_DIST_PORT"])
        if port is None:
            mp = os.environ.get("MASTER_PORT")
            port = int(mp) + 1 if mp else 12360
        self._port = int(port) + int(port_offset)
        self._peers = {}  # chief: rank -> socket
        self._sock = None  # worker: socket to the chief
        self._listener = None
        self._closed = False
        if size > 1:
            if rank == 0:
                self._accept_all()
            else:
                self._connect()

    @classmethod
    def from_det_environment(cls, **kw):
        e = os.environ
        return cls(rank=int(e.get("DET_RANK", 0)), size=int(e.get("DET_SIZE", 1)),
                   local_rank=int(e.get("DET_LOCAL_RANK", 0)),
                   local_size=int(e.get("DET_LOCAL_SIZE", 1)),
                   cross_rank=int(e.get("DET_CROSS_RANK", 0)),
                   cross_size=int(e.get("DET_CROSS_SIZE", 1)), **kw)

    @classmethod
    def from_torch_distributed(cls, chief_ip=None, **kw):
        e = os.environ
        size = int(e["WORLD_SIZE"])
        local_size = int(e.get("LOCAL_WORLD_SIZE", size))
        rank = int(e["RANK"])
        return cls(rank=rank, size=size, local_rank=int(e.get("LOCAL_RANK", rank % local_size)),
                   local_size=local_size,
                   cross_rank=int(e.get("GROUP_RANK", rank // local_size)),
                   cross_size=int(e.get("GROUP_WORLD_SIZE", (size + local_size - 1) // local_size)),
                   chief_ip=chief_ip, **kw)

    def _accept_all(self):
        ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        bind_ip = "127.0.0.1" if self._chief_ip in ("127.0.0.1", "localhost") else ""
        ls.bind((bind_ip, self._port))
        ls.listen(self.size)
        ls.settimeout(CONNECT_SECONDS)
        self._listener = ls
        while len(self._peers) < self.size - 1:
            try:
                s, _ = ls.accept()
            except socket.timeout:
                raise DistributedError(
                    f"chief: only {len(self._peers)} of {self.size - 1} workers connected") from None
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            s.settimeout(None)
            try:
                r = _recv(s, self._key)
            except (DistributedError, OSError, pickle.UnpicklingError):
                s.close()  # not one of ours
                continue
            if not isinstance(r, int) or not 0 < r < self.size or r in self._peers:
                s.close()
                continue
            self._peers[r] = s

    def _connect(self):
        give_up = time.monotonic() + CONNECT_SECONDS
        while True:
            try:
                s = socket.create_connection((self._chief_ip, self._port), timeout=10)
                break
            except OSError:
                if time.monotonic() >= give_up:
                    raise DistributedError(
                        f"rank {self.rank}: cannot reach the chief at {self._chief_ip}:{self._port}"
                    ) from None
                time.sleep(0.1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.settimeout(None)
        _send(s, self._key, self.rank)
        self._sock = s

    # rank information, as methods too (Determined has both)
    def get_rank(self):
        return self.rank

    def get_size(self):
        return self.size

    def get_local_rank(self):
        return self.local_rank

    def get_local_size(self):
        return self.local_size

    def get_cross_rank(self):
        return self.cross_rank

    def get_cross_size(self):
        return self.cross_size

    def _gather_to_chief(self, obj):
        if self.rank == 0:
            out = [obj] + [None] * (self.size - 1)
            for r in range(1, self.size):
                out[r] = _recv(self._peers[r], self._key)
            return out
        _send(self._sock, self._key, obj)
        return None

    def gather(self, stuff):
        """On the chief: a list of every rank's object; elsewhere None."""
        if self.size == 1:
            return [stuff]
        return self._gather_to_chief(stuff)

    def allgather(self, stuff):
        """On every rank: the list of every rank's object, in rank order."""
        if self.size == 1:
            return [stuff]
        everything = self._gather_to_chief(stuff)
        return self.broadcast(everything)

    def broadcast(self, stuff):
        """The chief's object, on every rank."""
        if self.size == 1:
            return stuff
        if self.rank == 0:
            for r in range(1, self.size):
                _send(self._peers[r], self._key, stuff)
            return stuff
        return _recv(self._sock, self._key)

    def allgather_local(self, stuff):
        mine = self.allgather((self.cross_rank, stuff))
        return [s for c, s in mine if c == self.cross_rank]

    def gather_local(self, stuff):
        mine = self.allgather((self.cross_rank, stuff))
        if self.local_rank != 0:
            return None
        return [s for c, s in mine if c == self.cross_rank]

    def broadcast_local(self, stuff=None):
        mine = self.allgather((self.cross_rank, self.local_rank, stuff))
        for c, lr, s in mine:
            if c == self.cross_rank and lr == 0:
                return s
        return None

    def close(self):
        if self._closed:
            return
        self._closed = True
        for s in self._peers.values():
            s.close()
        if self._sock:
            self._sock.close()
        if self._listener:
            self._listener.close()


class DummyDistributedContext(DistributedContext):
    """A single process: rank 0 of 1."""

    def __init__(self):
        super().__init__(rank=0, size=1, local_rank=0, local_size=1, cross_rank=0, cross_size=1)
