# SPDX-License-Identifier: GPL-2.0-or-later
"""``python3 -m determined.launch.torch_distributed [--nproc_per_node N] [--] CMD...``:
torchrun over det-slurm's ranks.

Under det-launch every slot already is a process with DET_RANK/DET_SIZE and
the torch.distributed variables (RANK, LOCAL_RANK, WORLD_SIZE,
LOCAL_WORLD_SIZE, MASTER_ADDR, and a MASTER_PORT found free on rank 0 and
given to every rank), so this checks them, adds GROUP_RANK/GROUP_WORLD_SIZE
and execs CMD. Off-cluster (no DET_RANK nor RANK) it starts N local ranks on
127.0.0.1 itself, prefixes their output with the rank and ends the others
when one fails, as torchrun's standalone mode does."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time

RANK_VARS = ("RANK", "LOCAL_RANK", "WORLD_SIZE", "LOCAL_WORLD_SIZE", "MASTER_ADDR", "MASTER_PORT")


def _int_var(env, name):
    v = env.get(name, "")
    if not v.isdigit():
        raise SystemExit(f"torch_distributed: {name}={v!r} is not a non-negative integer")
    return int(v)


def rank_env(env):
    """The torch.distributed variables for this rank, from det-launch's environment;
    SystemExit with the reason when they are missing or inconsistent."""
    out = {}
    if env.get("DET_RANK") and not env.get("RANK"):
        for det, torch_name in (("DET_RANK", "RANK"), ("DET_SIZE", "WORLD_SIZE"),
                                ("DET_LOCAL_RANK", "LOCAL_RANK"),
                                ("DET_LOCAL_SIZE", "LOCAL_WORLD_SIZE")):
            out[torch_name] = env.get(det, "")
    merged = dict(env)
    merged.update(out)
    for name in RANK_VARS:
        if not merged.get(name):
            raise SystemExit(f"torch_distributed: {name} is not set; det-launch sets it for every "
                             "rank (or run off-cluster without DET_RANK/RANK)")
    rank, size = _int_var(merged, "RANK"), _int_var(merged, "WORLD_SIZE")
    lrank, lsize = _int_var(merged, "LOCAL_RANK"), _int_var(merged, "LOCAL_WORLD_SIZE")
    port = _int_var(merged, "MASTER_PORT")
    if not (0 <= rank < size and 0 <= lrank < lsize <= size and 0 < port < 65536):
        raise SystemExit(f"torch_distributed: inconsistent ranks RANK={rank} WORLD_SIZE={size} "
                         f"LOCAL_RANK={lrank} LOCAL_WORLD_SIZE={lsize} MASTER_PORT={port}")
    out["GROUP_RANK"] = env.get("DET_CROSS_RANK") or str(rank // lsize)
    out["GROUP_WORLD_SIZE"] = env.get("DET_CROSS_SIZE") or str(-(-size // lsize))
    out["ROLE_RANK"], out["ROLE_WORLD_SIZE"] = str(rank), str(size)
    out["TORCHELASTIC_RUN_ID"] = env.get("DET_TRIAL_ID") or "det-local"
    return out


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _relay(src, dst, prefix):
    for line in iter(src.readline, b""):
        dst.write(prefix + line)
        dst.flush()


def run_local(n, cmd):
    """Start n ranks of cmd on this host; the first failure ends the rest. Exit status."""
    port, dist_port = _free_port(), _free_port()
    procs, threads = [], []
    for r in range(n):
        env = dict(os.environ, RANK=str(r), LOCAL_RANK=str(r), WORLD_SIZE=str(n),
                   LOCAL_WORLD_SIZE=str(n), MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port),
                   DET_DIST_PORT=str(dist_port), DET_RANK=str(r), DET_SIZE=str(n),
                   DET_LOCAL_RANK=str(r), DET_LOCAL_SIZE=str(n), DET_CROSS_RANK="0",
                   DET_CROSS_SIZE="1")
        env.update(rank_env(env))
        p = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             start_new_session=True)
        procs.append(p)
        t = threading.Thread(target=_relay, args=(p.stdout, sys.stdout.buffer,
                                                  f"[rank={r}] ".encode()))
        t.start()
        threads.append(t)
    rc = 0
    while any(p.poll() is None for p in procs):
        failed = [p for p in procs if p.returncode not in (None, 0)]
        if failed:
            rc = failed[0].returncode
            for p in procs:
                if p.poll() is None:
                    os.killpg(p.pid, signal.SIGTERM)
            break
        time.sleep(0.1)
    for p in procs:
        p.wait()
        if rc == 0 and p.returncode != 0:
            rc = p.returncode
    for t in threads:
        t.join()
    return rc if rc >= 0 else 128 - rc


def main(argv):
    nproc = 1
    while argv and argv[0].startswith("-"):
        a = argv.pop(0)
        if a == "--":
            break
        if a in ("--nproc_per_node", "--nproc-per-node") and argv:
            v = argv.pop(0)
            if not v.isdigit() or int(v) < 1:
                raise SystemExit(f"torch_distributed: --nproc_per_node {v!r}: a positive int")
            nproc = int(v)
        elif a.startswith("--nproc_per_node="):
            v = a.split("=", 1)[1]
            if not v.isdigit() or int(v) < 1:
                raise SystemExit(f"torch_distributed: --nproc_per_node {v!r}: a positive int")
            nproc = int(v)
        elif a == "--trust":
            pass
        else:
            raise SystemExit(f"torch_distributed: unknown option {a}")
    if not argv:
        raise SystemExit("usage: python3 -m determined.launch.torch_distributed "
                         "[--nproc_per_node N] [--] CMD...")
    if os.environ.get("DET_RANK") or os.environ.get("RANK"):
        if nproc != 1:
            raise SystemExit("torch_distributed: --nproc_per_node is for off-cluster runs; "
                             "det-launch starts one process per slot")
        os.environ.update(rank_env(os.environ))
        try:
            os.execvp(argv[0], argv)
        except OSError as e:
            raise SystemExit(f"torch_distributed: {argv[0]}: {e.strerror}") from None
    return run_local(nproc, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
