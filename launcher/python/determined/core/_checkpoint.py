# SPDX-License-Identifier: GPL-2.0-or-later
"""Checkpoints (``core_context.checkpoint``), the same layout as libdetcore:
files are written into ``<dir>/.tmp-<uuid>``; on success every file's size
and SHA-256 go into metadata.json, the directory is renamed to ``<dir>/<uuid>``
and registered with det-master. Restore verifies every file against the
registry (det-master's, or metadata.json off-cluster).

As in libdetcore, the writer holds flock() on ``<dir>/.tmp-<uuid>.lock`` while
it writes, and the chief sweeps the directory when the context starts: a
``.tmp-`` directory whose lock can be taken (its writer died) is removed, one
without a lock file once it is a day old; only this user's."""

import contextlib
import fcntl
import hashlib
import json
import os
import pathlib
import re
import shutil
import time
import uuid as uuidlib

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


_UNLOCKED_TMP_MAX_AGE_S = 24 * 3600


def _sweep_one(storage_dir, name, now):
    base = name[:-5] if name.endswith(".lock") else name
    if not base.startswith(".tmp-") or not _UUID.match(base[5:]):
        return
    tmp = os.path.join(storage_dir, base)
    try:
        fd = os.open(tmp + ".lock", os.O_RDWR | os.O_NOFOLLOW | os.O_CLOEXEC)
    except FileNotFoundError:
        try:  # no lock file: an older writer's directory, removed once old
            st = os.lstat(tmp)
        except OSError:
            return
        if (os.path.isdir(tmp) and not os.path.islink(tmp) and st.st_uid == os.geteuid()
                and now - st.st_mtime > _UNLOCKED_TMP_MAX_AGE_S):
            shutil.rmtree(tmp, ignore_errors=True)
        return
    except OSError:
        return
    try:
        if os.fstat(fd).st_uid != os.geteuid():
            return
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return  # its writer is at work
    else:
        if os.path.isdir(tmp) and not os.path.islink(tmp):
            shutil.rmtree(tmp, ignore_errors=True)
        with contextlib.suppress(OSError):
            os.unlink(tmp + ".lock")
    finally:
        os.close(fd)


def _sweep(storage_dir):
    """Remove what writers that died left in storage_dir (best effort)."""
    try:
        names = os.listdir(storage_dir)
    except OSError:
        return
    now = time.time()
    for name in names:
        if name.startswith(".tmp-"):
            _sweep_one(storage_dir, name, now)


class CheckpointError(Exception):
    """A checkpoint is missing, malformed, or does not match its registry."""


def _sha256(path):
    h = hashlib.sha256()
    size = 0
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
            size += len(b)
    return h.hexdigest(), size


def _list_files(root):
    files = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames.sort()
        for d in dirnames:
            if os.path.islink(os.path.join(dirpath, d)):
                raise CheckpointError(f"{os.path.join(dirpath, d)}: links may not be checkpointed")
        for name in sorted(filenames):
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, root)
            if rel == "metadata.json":
                continue
            if os.path.islink(full) or not os.path.isfile(full):
                raise CheckpointError(f"{full}: only regular files and directories may be checkpointed")
            digest, size = _sha256(full)
            files.append({"path": rel, "size": size, "sha256": digest})
    files.sort(key=lambda f: f["path"])
    return files


class CheckpointContext:
    def __init__(self, sink, distributed, storage_dir):
        self._sink = sink
        self._dist = distributed
        self._dir = storage_dir
        if distributed.rank == 0:
            _sweep(storage_dir)

    @property
    def storage_dir(self):
        return self._dir

    @contextlib.contextmanager
    def store_path(self, metadata=None, *, shard=False):
        """Yield ``(path, uuid)``: write the checkpoint's files into path.

        shard=False: only the chief may call it. shard=True: every rank calls it
        together and writes its own files into the same directory (which must be
        on a file system all ranks share); the chief then commits it."""
        metadata = dict(metadata or {})
        steps = metadata.get("steps_completed", 0)
        if not isinstance(steps, int) or steps < 0:
            raise ValueError("metadata steps_completed: not a non-negative int")
        json.dumps(metadata)  # must be JSON-serializable before any file is written
        if not shard and self._dist.rank != 0:
            raise RuntimeError("store_path(shard=False) may only be called on the chief "
                               f"(this is rank {self._dist.rank})")
        ckpt_id = str(uuidlib.uuid4()) if self._dist.rank == 0 else None
        if shard:
            ckpt_id = self._dist.broadcast(ckpt_id)
        tmp = os.path.join(self._dir, ".tmp-" + ckpt_id)
        lock = None
        if self._dist.rank == 0:
            try:
                os.makedirs(self._dir, exist_ok=True)
                # the lock first: a sweeper never sees the directory without it
                lock = os.open(tmp + ".lock", os.O_RDWR | os.O_CREAT | os.O_EXCL
                               | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
            except OSError as e:
                # one line that names the directory: it becomes the trial's end reason
                raise type(e)(e.errno, f"checkpoint directory {self._dir}: {e.strerror}") \
                    from None
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                os.makedirs(tmp)
            except BaseException:
                os.unlink(tmp + ".lock")
                os.close(lock)
                raise
        if shard:
            self._dist.allgather(None)  # the directory exists before anyone writes
        failed = False
        try:
            yield pathlib.Path(tmp), ckpt_id
        except BaseException:
            failed = True
            raise
        finally:
            if shard:
                failed = any(self._dist.allgather(failed))
            if self._dist.rank == 0:
                try:
                    if failed:
                        shutil.rmtree(tmp, ignore_errors=True)
                    else:
                        self._commit(tmp, ckpt_id, steps, metadata)
                finally:
                    with contextlib.suppress(OSError):
                        os.unlink(tmp + ".lock")
                    os.close(lock)
            if shard:
                self._dist.allgather(None)  # committed before anyone goes on

    def _commit(self, tmp, ckpt_id, steps, metadata):
        try:
            files = _list_files(tmp)
            record = {"uuid": ckpt_id, "steps_completed": steps, "metadata": metadata,
                      "files": files}
            with open(os.path.join(tmp, "metadata.json"), "w", encoding="utf-8") as f:
                json.dump(record, f, indent=2, sort_keys=True)
            os.rename(tmp, os.path.join(self._dir, ckpt_id))
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if not self._sink.off_cluster:
            self._sink.trial_post("checkpoints", record)

    def _registry(self, ckpt_id, path):
        if self._sink.off_cluster:
            try:
                with open(os.path.join(path, "metadata.json"), encoding="utf-8") as f:
                    rec = json.load(f)
            except (OSError, ValueError) as e:
                raise CheckpointError(f"checkpoint {ckpt_id}: {e}") from None
        else:
            rec = self._sink.session.get(f"/checkpoints/{ckpt_id}")
        if not isinstance(rec, dict) or not isinstance(rec.get("files"), list):
            raise CheckpointError(f"checkpoint {ckpt_id}: registry has no file list")
        return rec

    def _verify(self, ckpt_id):
        if not isinstance(ckpt_id, str) or not _UUID.match(ckpt_id):
            raise CheckpointError(f"checkpoint id {ckpt_id!r}: not a uuid")
        path = os.path.join(self._dir, ckpt_id)
        rec = self._registry(ckpt_id, path)
        for entry in rec["files"]:
            rel = entry.get("path") if isinstance(entry, dict) else None
            if not isinstance(rel, str) or rel.startswith("/") or ".." in rel.split("/"):
                raise CheckpointError(f"checkpoint {ckpt_id}: malformed file entry")
            full = os.path.join(path, rel)
            try:
                digest, size = _sha256(full)
            except OSError as e:
                raise CheckpointError(f"checkpoint {ckpt_id}: {e}") from None
            if size != entry.get("size"):
                raise CheckpointError(f"{full}: size {size}, registered {entry.get('size')}")
            if digest != str(entry.get("sha256", "")).lower():
                raise CheckpointError(f"{full}: SHA-256 does not match the registry")
        return path, rec

    @contextlib.contextmanager
    def restore_path(self, storage_id, download_mode=None, *, selector=None):
        """Yield the verified directory of checkpoint storage_id."""
        path, _ = self._verify(storage_id)
        yield pathlib.Path(path)

    def download(self, storage_id, ckpt_dir, download_mode=None, *, selector=None):
        """Copy a verified checkpoint into ckpt_dir."""
        path, _ = self._verify(storage_id)
        shutil.copytree(path, ckpt_dir, dirs_exist_ok=True)

    def get_metadata(self, storage_id):
        _, rec = self._verify(storage_id)
        return rec.get("metadata", {})

    def upload(self, ckpt_dir, metadata=None, *, shard=False, selector=None):
        """Store a copy of ckpt_dir as a new checkpoint; its uuid."""
        with self.store_path(metadata, shard=shard) as (path, ckpt_id):
            if ckpt_dir is not None:
                shutil.copytree(ckpt_dir, path, dirs_exist_ok=True)
        return ckpt_id
